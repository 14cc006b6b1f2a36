"""A tighter ceiling: parktwin's own MQTT client (``parktwin.wire``) and ``json.loads``, nothing
else. The collector reads through the same client, so this row shows what its own work (checks,
tags, line protocol, writes, acknowledgement when durable) costs on top of reading.

Run by the harness as its own process: subscribes at QoS 1, prints ``ready`` once the broker has
granted the subscription, acknowledges each burst as soon as it is decoded, and exits after
``count`` messages.

    .venv/bin/python bench/bare_wire_consumer.py PORT TOPIC_FILTER COUNT
"""

from __future__ import annotations

import asyncio
import json
import sys

from parktwin.config import MqttSettings
from parktwin.wire.subscriber import open_subscriber


async def consume(port: int, subscription: str, count: int) -> None:
    settings = MqttSettings(port=port, receive_maximum=20000)  # as the collector asks
    async with open_subscriber(settings, "bench-bare-wire", persistent=False) as client:
        await client.subscribe([subscription], 1, 60)
        print("ready", flush=True)
        received = 0
        while received < count:
            burst = await client.next_burst()
            for message in burst:
                json.loads(message.payload)
            client.ack([m.mid for m in burst if m.qos])
            received += len(burst)


def main() -> None:
    asyncio.run(consume(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))


if __name__ == "__main__":
    main()
