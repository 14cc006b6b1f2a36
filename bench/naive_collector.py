"""What a first attempt at a collector gets: an aiomqtt loop, one InfluxDB write per message.

Run by the harness as its own process: creates the database, subscribes at QoS 1 (aiomqtt
acknowledges on receipt), prints ``ready``, then for each message decodes the JSON, formats one
line and POSTs it to InfluxDB 1.x's /write, awaiting the answer before the next message; exits
after ``count`` messages, all of them stored.

    .venv/bin/python bench/naive_collector.py PORT TOPIC_FILTER COUNT INFLUX_URL DATABASE
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import aiomqtt


async def collect(port: int, subscription: str, count: int, url: str, database: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/query", data={"q": f'CREATE DATABASE "{database}"'}) as r:
            r.raise_for_status()
        write_url = f"{url}/write?db={database}&precision=ms"
        async with aiomqtt.Client(
            "127.0.0.1", port, identifier="bench-naive", protocol=aiomqtt.ProtocolVersion.V5
        ) as client:
            await client.subscribe(subscription, qos=1)
            print("ready", flush=True)
            stored = 0
            async for message in client.messages:
                body = json.loads(message.payload)  # type: ignore[arg-type,unused-ignore]
                device = str(message.topic).split("/")[-2]
                fields = ",".join(f"{k}={v}" for k, v in body["values"].items())
                line = f"electricity,device={device} {fields} {body['ts']}"
                async with http.post(write_url, data=line) as response:
                    response.raise_for_status()
                stored += 1
                if stored >= count:
                    return


def main() -> None:
    port, subscription, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    asyncio.run(collect(port, subscription, count, sys.argv[4], sys.argv[5]))


if __name__ == "__main__":
    main()
