"""Fuzz target: the MQTT v5 client's inbound framing and decoder, fed by atheris (libFuzzer).

    pip install -e '.[test]'
    python tests/fuzz/fuzz_wire.py -max_total_time=20 /tmp/new

Each input is split into reads: its first byte seeds where the cuts fall, the rest is the byte
stream a broker sent. The reads go through ``MqttConnection.data_received`` (the bounded
buffer) into ``decode_inbound`` (the subscriber's decoder, with a Maximum Packet Size of 4096 and
topic aliases allowed). A malformed stream must end in ``MalformedPacket`` and nothing else, and
the buffer must never hold more than one packet under the limit and one read; anything else is a
crash libFuzzer reports with the input. tests/test_fuzz_targets.py runs it in CI for a bounded
time, seeded with ``mixed_stream`` (tests/helpers.py), every packet kind a subscriber reads.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from parktwin.wire.connection import MqttConnection  # noqa: F401 (instrumented for helpers)
    from parktwin.wire.inbound import InboundLimits
    from parktwin.wire.packets import MalformedPacket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers
from helpers import WireReader

LIMIT = 4096


def check(data: bytes) -> None:
    """One fuzz input: split into reads, fed to a connection; only the documented error."""
    if not data:
        return
    cuts = random.Random(data[0])
    stream = data[1:]
    reads, pos = [], 0
    while pos < len(stream):
        size = cuts.choice((1, 2, 3, 7, 64, 1000))
        reads.append(stream[pos : pos + size])
        pos += size
    reader = WireReader(InboundLimits(maximum_packet_size=LIMIT, topic_alias_maximum=8))
    reader.feed(reads)
    error = reader._error
    assert error is None or isinstance(error, MalformedPacket), repr(error)
    assert reader.most_buffered <= LIMIT + 1000, reader.most_buffered


async def fuzz() -> None:
    # The connection needs a running event loop; libFuzzer's loop runs inside this one.
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    asyncio.run(fuzz())
