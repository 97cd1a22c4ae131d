"""astroctl: release management for an Apache-Airflow-based runtime distribution."""

__version__ = "0.1.0"
