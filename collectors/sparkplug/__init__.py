"""Sparkplug B devices: births, aliases, sequence numbers and deaths, turned into readings.

The protobuf schema is ours, built in code from the Sparkplug 3.0 specification
(``schema.py``), and loaded into a private descriptor pool, so no schema fetched from elsewhere
is checked in and another library's Sparkplug classes in the same process cannot clash with ours.
"""
