"""The twin's model: topology, counters, period ledger, live state and its checkpoint."""
