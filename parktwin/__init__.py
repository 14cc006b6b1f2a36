"""parktwin: smart-park digital twin and IoT monitoring.

This package holds what the roles share: the park model, the wire contract,
configuration, and the command line that wires collectors, twin and simulators.
"""

__version__ = "0.1.0"
