# {{title}}
# Rendered by astroctl {{astroctl_version}}; this directory is the whole build context.
#
# One stage: {{reason}},
# so nothing has to be kept out of the image's layers. One RUN installs Apache Airflow
# {{airflow}} and the release's pins into a virtual environment, under the release's constraint
# set (builder/install.sh), and removes builder/ again; its files (the install scripts, the
# requirements and the set, nothing secret) stay only in the layer of the COPY before it.
# A build given a CA bundle or a pip.conf is rendered in two stages instead.
ARG PYTHON_IMAGE={{python_image}}

FROM ${PYTHON_IMAGE}
COPY builder/ /tmp/astro-build/
RUN /bin/sh /tmp/astro-build/install.sh {{venv}} /tmp/astro-build && rm -rf /tmp/astro-build
ENV {{env}}
RUN useradd --uid 50000 --gid 0 --no-log-init --create-home --home-dir {{airflow_home}} \
        --shell /bin/bash astro \
    && mkdir -p {{airflow_home}}/dags \
    && chown -R 50000:0 {{airflow_home}}
COPY constraints.txt airflow-pin.txt {{share}}/
COPY --chown=50000:0 astronomer_monitoring_dag.py {{airflow_home}}/dags/astronomer_monitoring_dag.py
LABEL {{labels}}
USER astro
WORKDIR {{airflow_home}}
