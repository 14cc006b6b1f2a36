"""The live twin and its snapshot: ingest readings, compose state and KPIs at a watermark."""
