"""The subscriber's decoder on one read of 20,000 QoS 1 PUBLISH packets (a backlog drain's read):
plain, with the same v5 properties on every packet (payload format, content type, a user
property, as a device sets them), and with a different user property on every packet. Prints
µs a message, best of the rounds, and each against plain in the same run.

    .venv/bin/python bench/wire_decode.py [--rounds 7]

Packets are framed here with paho's ``Properties.pack``, so the script also runs against an
older ``parktwin`` (``PYTHONPATH=/path/to/old/checkout``) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.wire.inbound import decode_inbound

PACKETS = 20_000
TOPIC = "parks/bench/devices/m-00001/telemetry"
PAYLOAD = b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":123.4,"power_kw":5.5}}'


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | (0x80 if value else 0))
        if not value:
            return bytes(out)


def publish(packet_id: int, properties: bytes) -> bytes:
    topic = TOPIC.encode()
    body = len(topic).to_bytes(2, "big") + topic + packet_id.to_bytes(2, "big")
    body += properties + PAYLOAD
    return b"\x32" + varint(len(body)) + body


def packed(user_value: str | None) -> bytes:
    if user_value is None:
        return b"\x00"
    properties = Properties(PacketTypes.PUBLISH)
    properties.PayloadFormatIndicator = 1
    properties.ContentType = "application/json"
    properties.UserProperty = ("site", user_value)
    return bytes(properties.pack())


def best_us(data: bytes, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        messages: list[object] = []
        started = time.perf_counter()
        decode_inbound(data, messages, [], set())  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - started)
        assert len(messages) == PACKETS
    return best / PACKETS * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    same = packed("north")
    streams = {
        "plain": b"".join(publish(i % 65535 + 1, b"\x00") for i in range(PACKETS)),
        "same properties": b"".join(publish(i % 65535 + 1, same) for i in range(PACKETS)),
        "different properties": b"".join(
            publish(i % 65535 + 1, packed(str(i))) for i in range(PACKETS)
        ),
    }
    plain = best_us(streams["plain"], rounds)
    print(f"{'stream':>22}  µs/msg  vs plain")
    for name, data in streams.items():
        us = plain if name == "plain" else best_us(data, rounds)
        print(f"{name:>22}  {us:6.2f}  {us / plain:8.2f}")


if __name__ == "__main__":
    main()
