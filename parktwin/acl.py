"""The broker's access rules for parktwin's topics, as a mosquitto ``acl_file`` (docs/access.md).

One device identity is one park and one device id: a device logs in as
``{park}/devices/{device}``, and the two pattern rules give that user name exactly
``parks/{park}/devices/{device}/telemetry`` and ``.../status``, in no other park and as no other
device. mosquitto substitutes the whole user name for ``%u`` and denies pattern rules to user
names holding ``+`` or ``#``; a service's name (no ``/``) can only yield three-level topics,
which no one reads. The services get exactly what they publish and read; the simulator gets the
telemetry and status topics of the park's devices, one by one, and its gateway status.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from parktwin.contract import topics
from parktwin.park.model import Park
from parktwin.park.sparkplug import sparkplug_topic

ANY = "+"
# Subscribed and published topics of each service account, for every park (``+``).
TELEMETRY = ("read", topics.telemetry_filter(ANY))
INPUTS = ("read", topics.monthly_inputs_filter(ANY))
DEAD_LETTER = ("write", topics.dead_letter(ANY))
TWIN_STATE = ("write", topics.twin_state(ANY))
ALERTS = ("write", topics.alert(ANY, ANY))

SERVICES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "parktwin": (
        "`parktwin run`: the collectors and the twin in one process (the compose stack); it "
        "also reads the broker's uptime for the compose health check.",
        (TELEMETRY, INPUTS, DEAD_LETTER, TWIN_STATE, ALERTS, ("read", "$SYS/broker/uptime")),
    ),
    "collector": (
        "`parktwin collect`: reads telemetry, writes refused messages to the dead-letter topic.",
        (TELEMETRY, DEAD_LETTER),
    ),
    "twin": (
        "`parktwin twin`: reads telemetry and monthly inputs, writes its state and alerts.",
        (TELEMETRY, INPUTS, TWIN_STATE, ALERTS),
    ),
    "operator": (
        "`parktwin inputs`: publishes monthly inputs, reads what the services publish.",
        (
            ("readwrite", topics.monthly_inputs_filter(ANY)),
            ("read", topics.dead_letter(ANY)),
            ("read", topics.twin_state(ANY)),
            ("read", topics.alert(ANY, ANY)),
        ),
    ),
}

HEADER = """\
# mosquitto ACL for parktwin (docs/access.md). Made by `parktwin acl`; do not edit by hand:
# tests/test_access_deploy.py checks that this file is what the command makes.
#
# A device logs in as "{park}/devices/{device}" and may publish its own telemetry and status
# only: mosquitto puts the whole user name in place of %u, so the name ties the device to its
# park, and it refuses pattern rules to names holding "+" or "#". Devices read nothing.
pattern write parks/%u/telemetry
pattern write parks/%u/status
"""


def _comment(text: str) -> str:
    return textwrap.fill(text, 99, initial_indent="# ", subsequent_indent="# ")


def device_username(park_id: str, device_id: str) -> str:
    """The MQTT user name of one device of one park."""
    return f"{park_id}/devices/{device_id}"


# The accounts that subscribe to telemetry, and so to the park's mapped device topics too.
READERS = ("parktwin", "collector", "twin")


def mosquitto_acl(
    park: Park | None,
    *,
    simulator: bool = True,
    mapped_filters: Sequence[str] = (),
    command_topics: Sequence[str] = (),
    gateway: str = "simulator",
) -> str:
    """The ACL file: device patterns, the service accounts, and for ``park`` its mapped topic
    filters (``mapped_filters``: what the collectors subscribe to beside the contract's topics,
    read by every account that reads telemetry) and user ``simulator`` publishing as each of the
    park's devices and as gateway ``gateway``. ``command_topics`` are written by the same
    accounts: the Sparkplug rebirth requests (NCMD) the collectors and the twin send."""
    lines = [HEADER]
    for user, (comment, rules) in SERVICES.items():
        lines.append(f"\n{_comment(comment)}\nuser {user}\n")
        lines.extend(f"topic {access} {topic}\n" for access, topic in rules)
        if mapped_filters and user in READERS:
            lines.append("# the park's real devices, on their own topics (mappings:)\n")
            lines.extend(f"topic read {topic}\n" for topic in mapped_filters)
        if command_topics and user in READERS:
            lines.append("# rebirth requests to the park's Sparkplug edge nodes (sparkplug:)\n")
            lines.extend(f"topic write {topic}\n" for topic in command_topics)
    if mapped_filters:
        said = (
            "Devices behind mappings publish on their own topics, which no pattern can tie to "
            "one device: give each its own user block (user <name>, topic write <its topic>)."
        )
        lines.append(f"\n{_comment(said)}\n")
    if park is not None and simulator:
        park_id = park.park.id
        said = (
            f"The simulator (`parktwin simulate`, the demo profile) speaks for the "
            f"{len(park.devices)} devices of park {park_id} and for itself as a gateway."
        )
        lines.append(
            f"\n{_comment(said)}\n"
            f"user simulator\ntopic write {topics.gateway_status(park_id, gateway)}\n"
        )
        for device in park.devices:
            lines.append(f"topic write {topics.telemetry(park_id, device.id)}\n")
            lines.append(f"topic write {topics.device_status(park_id, device.id)}\n")
        lines.extend(_sparkplug_edge_rules(park))
    return "".join(lines)


def _sparkplug_edge_rules(park: Park) -> list[str]:
    """The simulator as the park's Sparkplug edge nodes: their births, data and deaths, and
    the commands (NCMD) sent to them, which it answers with births."""
    nodes = sorted(
        {
            (group.group, identity.partition("/")[0])
            for group in park.sparkplug
            for identity in group.devices
            if "/" in identity
        }
    )
    if not nodes:
        return []
    lines = ["# the park's Sparkplug edge nodes (sparkplug:), as the simulator plays them\n"]
    for group, node in nodes:
        lines.append(f"topic write {sparkplug_topic(group, '+', node)}\n")
        lines.append(f"topic write {sparkplug_topic(group, '+', node, '+')}\n")
        lines.append(f"topic read {sparkplug_topic(group, 'NCMD', node)}\n")
    return lines
