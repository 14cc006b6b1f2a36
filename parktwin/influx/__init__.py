"""Writing to InfluxDB (v1 and v2 APIs), line protocol, and InfluxQL queries."""
