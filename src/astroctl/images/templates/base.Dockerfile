# {{title}}
# Rendered by astroctl {{astroctl_version}}; this directory is the whole build context.
#
# Two stages: {{reason}},
# which must reach no layer of the image. "builder" installs Apache Airflow {{airflow}} and the
# release's pins into a virtual environment, under the release's constraint set
# (builder/install.sh). Only that stage copies builder/, which holds them: the final stage
# copies the environment from it, never the stage, so they stay out of the image. The builder
# stage is never tagged or pushed. Without a CA bundle and a pip.conf it is one stage.
ARG PYTHON_IMAGE={{python_image}}

FROM ${PYTHON_IMAGE} AS builder
COPY builder/ /tmp/astro-build/
RUN ["/bin/sh", "/tmp/astro-build/install.sh", "{{venv}}", "/tmp/astro-build"]

FROM ${PYTHON_IMAGE}
ENV {{env}}
RUN useradd --uid 50000 --gid 0 --no-log-init --create-home --home-dir {{airflow_home}} \
        --shell /bin/bash astro \
    && mkdir -p {{airflow_home}}/dags \
    && chown -R 50000:0 {{airflow_home}}
COPY --from=builder {{venv}} {{venv}}
COPY constraints.txt airflow-pin.txt {{share}}/
COPY --chown=50000:0 astronomer_monitoring_dag.py {{airflow_home}}/dags/astronomer_monitoring_dag.py
LABEL {{labels}}
USER astro
WORKDIR {{airflow_home}}
