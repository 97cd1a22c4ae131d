# {{title}}
# Rendered by astroctl {{astroctl_version}}; this directory is the whole build context.
#
# The base image just built, plus the ONBUILD steps an Astro project's Dockerfile
# ("FROM <this image>") runs: refuse an apache-airflow line in requirements.txt (the image's
# Airflow is the release's), install packages.txt with apt and requirements.txt with pip
# (Airflow held at {{airflow}}), then copy the project into {{airflow_home}}.
# BASE_IMAGE names the base image; a bake file points it at its base target instead.
ARG BASE_IMAGE={{base_image}}

FROM ${BASE_IMAGE}
LABEL {{labels}}
ONBUILD USER root
ONBUILD COPY packages.txt requirements.txt {{project}}/
ONBUILD RUN {{check_requirements}}
ONBUILD RUN {{install_packages}}
ONBUILD RUN {{install_requirements}}
ONBUILD USER astro
ONBUILD COPY --chown=50000:0 . .
