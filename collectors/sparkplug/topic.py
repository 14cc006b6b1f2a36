"""Sparkplug B topics: ``spBv1.0/<group>/<message type>/<edge node>[/<device>]``."""

from __future__ import annotations

from dataclasses import dataclass, field

from parktwin.park.sparkplug import NAMESPACE

NODE_TYPES = frozenset({"NBIRTH", "NDATA", "NDEATH", "NCMD"})
DEVICE_TYPES = frozenset({"DBIRTH", "DDATA", "DDEATH", "DCMD"})


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    group: str
    kind: str  # NBIRTH, DBIRTH, NDATA, DDATA, NDEATH, DDEATH, NCMD, DCMD
    node: str
    device: str | None
    # How the park file's ``sparkplug.devices`` names the sender: node or node/device.
    identity: str = field(init=False)

    def __post_init__(self) -> None:
        identity = self.node if self.device is None else f"{self.node}/{self.device}"
        object.__setattr__(self, "identity", identity)


def parse_topic(topic: str) -> SparkplugTopic | None:
    """The parts of a Sparkplug B topic; None for anything else (STATE, other namespaces)."""
    levels = topic.split("/")
    if len(levels) not in (4, 5) or levels[0] != NAMESPACE or not all(levels[1:]):
        return None
    kind = levels[2]
    if (kind in NODE_TYPES and len(levels) == 4) or (kind in DEVICE_TYPES and len(levels) == 5):
        return SparkplugTopic(levels[1], kind, levels[3], levels[4] if len(levels) == 5 else None)
    return None


def group_filter(group: str) -> str:
    """The subscription that takes every message of one group."""
    return f"{NAMESPACE}/{group}/#"


def node_command(group: str, node: str) -> str:
    """Where a host writes commands to an edge node (NCMD)."""
    return f"{NAMESPACE}/{group}/NCMD/{node}"
