"""Declarative mappings: real devices' MQTT messages (Tasmota, Shelly, Zigbee2MQTT, Neuron...)
turned into contract readings, configured in the park file's ``mappings:`` section."""
