"""Simulators: a whole park's devices over MQTT, deterministic for a seed, with time warp."""
