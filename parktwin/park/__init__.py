"""The park file: topology (zones, buildings, enterprises, devices) and its validation."""

from parktwin.park.loader import ParkFileError, load_park
from parktwin.park.model import Building, Device, Enterprise, Park, Zone

__all__ = ["Building", "Device", "Enterprise", "Park", "ParkFileError", "Zone", "load_park"]
