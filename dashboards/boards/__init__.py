"""One module a dashboard; each has ``build(labels) -> Dashboard``."""
