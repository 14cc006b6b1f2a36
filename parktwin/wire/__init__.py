"""MQTT v5 on asyncio for the hot paths: packets as bytes (``packets``, ``inbound``), one client
connection (``connection``) and the intake's subscriber (``subscriber``); the simulator's
publisher (``simulators.publisher``) is the other client built on them."""
