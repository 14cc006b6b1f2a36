"""Grafana dashboards for parktwin, built from one definition in code (``dashboards.boards``),
exported to JSON and provisioning files, and pushed to a running Grafana."""
