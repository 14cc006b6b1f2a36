"""Schema of the park file's ``sparkplug:`` section: Sparkplug B edge nodes and devices as park
devices, and the metrics that carry each quantity.

Sparkplug B (Eclipse Sparkplug 3.0) publishes protobuf payloads on
``spBv1.0/<group>/<NBIRTH|DBIRTH|NDATA|DDATA|NDEATH|DDEATH>/<node>[/<device>]``. Births name
the metrics; data messages carry only aliases. The decoder lives with the collectors
(``collectors/sparkplug/``); here is the shape, named as in the ``mappings:`` section
(``devices``: identity -> park device id, ``values``: quantity -> where it is, ``scale``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAMESPACE = "spBv1.0"  # Sparkplug 3.0's topic namespace for Sparkplug B payloads


def sparkplug_topic(group: str, kind: str, node: str, device: str | None = None) -> str:
    """``spBv1.0/<group>/<message type>/<edge node>[/<device>]``."""
    topic = f"{NAMESPACE}/{group}/{kind}/{node}"
    return topic if device is None else f"{topic}/{device}"


DeviceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
# A Sparkplug id: UTF-8 without the MQTT special characters (Sparkplug 3.0, "Topic Namespace").
SparkplugId = Annotated[str, Field(pattern=r"^[^/+#]{1,200}$")]
# An edge node's id, or ``node/device`` for a device behind it.
Identity = Annotated[str, Field(pattern=r"^[^/+#]{1,200}(/[^/+#]{1,200})?$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricValue(_Strict):
    """One quantity: the Sparkplug metric that carries it, and the factor to the quantity's
    unit (0.001 for a metric in W read as ``power_kw``)."""

    metric: str = Field(min_length=1)
    scale: float = 1.0


class SparkplugGroup(_Strict):
    """The edge nodes and devices of one Sparkplug group that are park devices."""

    group: SparkplugId
    # ``node`` or ``node/device`` -> park device id; an identity not listed is dead-lettered.
    devices: dict[Identity, DeviceId] = Field(min_length=1)
    # Park quantity -> metric; metrics not named here are ignored (Sparkplug nodes publish
    # many: firmware versions, I/O states...).
    values: dict[str, MetricValue] = Field(min_length=1)
