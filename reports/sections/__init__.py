"""The sections of a report, one module each, built from a gathered (replayed) period."""
