"""Sparkplug B devices: births, aliases, sequence numbers and deaths, turned into readings.

``sparkplug_b.proto`` is the official schema from Eclipse Tahu, unmodified (EPL-2.0, see
``NOTICE``); ``sparkplug_b.desc`` is that file compiled by protoc (``scripts/compile_sparkplug.sh``)
and is loaded into a private descriptor pool, so no generated code is checked in and another
library's Sparkplug classes in the same process cannot clash with ours.
"""
