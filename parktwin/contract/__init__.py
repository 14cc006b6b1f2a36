"""The wire contract between devices (or simulators) and parktwin: topics, quantities, payloads."""
