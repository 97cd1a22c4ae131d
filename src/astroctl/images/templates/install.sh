#!/bin/sh
# Install Apache Airflow and the release's pins into a new virtual environment, under the
# release's constraint set: the "builder" stage of astroctl's base image runs this.
#
#   sh install.sh VENV DIR
#
# DIR holds requirements.txt (apache-airflow==X and the release's pins), constraints.txt (the
# set) and lock_requirements.py; ca-bundle.crt and pip.conf when the build was given them (a
# CA bundle for a TLS-intercepting proxy, a private index): they are used from DIR, which the
# image's final stage never copies.
#
# A set with hashes is installed in pip's hash-checking mode. pip honours hashes on
# requirements, not on constraints, so: pip resolves the requirements against the set's pins
# (without installing), lock_requirements.py gives every package of that resolution its hashes
# from the set (a package the set does not pin stops the build), and only that locked list is
# installed, with --require-hashes --no-deps: no file whose hash the set lacks is installed.
#
# The environment is made by the image's python3 (ASTRO_BUILD_PYTHON, when set, names another:
# a test runs this script on the host).
set -eu
venv=$1
dir=$2
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export PIP_ROOT_USER_ACTION=ignore
if [ -f "$dir/ca-bundle.crt" ]; then
    export PIP_CERT="$dir/ca-bundle.crt"
    export SSL_CERT_FILE="$dir/ca-bundle.crt" REQUESTS_CA_BUNDLE="$dir/ca-bundle.crt"
fi
if [ -f "$dir/pip.conf" ]; then
    export PIP_CONFIG_FILE="$dir/pip.conf"
fi
"${ASTRO_BUILD_PYTHON:-python3}" -m venv "$venv"
python="$venv/bin/python"
if grep -q -e '--hash=' "$dir/constraints.txt"; then
    "$python" "$dir/lock_requirements.py" strip "$dir/constraints.txt" "$dir/pins.txt"
    "$python" -m pip install --dry-run --quiet --report "$dir/report.json" \
        -r "$dir/requirements.txt" -c "$dir/pins.txt"
    "$python" "$dir/lock_requirements.py" lock "$dir/report.json" "$dir/constraints.txt" \
        "$dir/locked.txt"
    "$python" -m pip install --require-hashes --no-deps -r "$dir/locked.txt"
else
    "$python" -m pip install -r "$dir/requirements.txt" -c "$dir/constraints.txt"
fi
