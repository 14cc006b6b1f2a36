"""One MQTT message of the bad-input corpus (``tests/data/bad_messages/*.msg``).

A case file is a few ``key: value`` header lines, a blank line, then the payload's raw bytes to
the end of the file (no newline added), so that binary and huge payloads stay exact:

    reason: malformed_json
    topic: parks/{park}/devices/m-plant/telemetry
    why: the payload stops inside the timestamp

    {"v":1,"ts":176722

``{park}`` in the topic stands for the park under test. ``reason`` is the dead-letter reason the
collector must give, or ``accepted`` for a message that looks odd but is valid. The same files
seed the fuzz target, which reads any bytes this way and never fails on a malformed case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "data" / "bad_messages"
DEFAULT_TOPIC = "parks/{park}/devices/m-plant/telemetry"


@dataclass(frozen=True)
class MessageCase:
    """A message to publish and what the collector must make of it."""

    name: str
    reason: str
    topic: str
    why: str
    payload: bytes

    def topic_for(self, park_id: str) -> str:
        return self.topic.replace("{park}", park_id)


def parse_case(data: bytes, name: str = "") -> MessageCase:
    """Read a case; bytes without a header are a payload on the default topic."""
    head, blank, payload = data.partition(b"\n\n")
    if not blank:
        return MessageCase(name, "", DEFAULT_TOPIC, "", data)
    fields: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        key, colon, value = line.partition(": ")
        if not colon:
            return MessageCase(name, "", DEFAULT_TOPIC, "", data)
        fields[key] = value
    return MessageCase(
        name,
        fields.get("reason", ""),
        fields.get("topic", DEFAULT_TOPIC),
        fields.get("why", ""),
        payload,
    )


def load_cases(folder: Path = CORPUS) -> list[MessageCase]:
    """Every case of the corpus, in file-name order."""
    return [parse_case(path.read_bytes(), path.stem) for path in sorted(folder.glob("*.msg"))]
