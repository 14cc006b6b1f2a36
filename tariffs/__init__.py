"""Prices, bands and bills: what the park's energy costs (docs/tariffs.md)."""
