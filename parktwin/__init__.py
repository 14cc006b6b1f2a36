"""parktwin's core: what every role shares and nothing that is a role.

The wire contract, the park file schema (every section of it), settings, the MQTT client, the
InfluxDB writers and line protocol, the park's calendar, atomic files and the metrics registry.
It imports no role (collectors, simulators, twin, alerts, dashboards) and no program.
"""

__version__ = "0.1.0"
