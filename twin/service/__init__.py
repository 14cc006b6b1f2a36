"""The twin service and its outputs: MQTT intake, ticks, KPI points, HTTP API and view."""
