"""Energy-overrun alerts: rules from the park file, evaluated on the twin's event time, with a
firing/resolved lifecycle, retained on MQTT, written to InfluxDB and delivered by signed webhooks
from a durable outbox (docs/alerts.md)."""
