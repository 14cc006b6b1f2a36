"""The twin's indicators: energy balance, carbon, zero-carbon and green-park, occupancy, per-mu."""
