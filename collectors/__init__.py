"""Collectors: MQTT in, decode, validate, tag with the park's topology, InfluxDB out."""
