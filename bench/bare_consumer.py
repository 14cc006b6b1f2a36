"""The Python ceiling: a bare paho-mqtt v5 consumer that only decodes each message's JSON.

Run by the harness as its own process: subscribes at QoS 1 (paho acknowledges on receipt),
prints ``ready`` once the broker has granted the subscription, and exits after ``count``
messages.

    .venv/bin/python bench/bare_consumer.py PORT TOPIC_FILTER COUNT
"""

from __future__ import annotations

import itertools
import json
import sys

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main() -> None:
    port, subscription, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=paho.MQTTv5)
    received = itertools.count(1)

    def on_connect(client: paho.Client, *_: object) -> None:
        client.subscribe(subscription, qos=1)

    def on_subscribe(*_: object) -> None:
        print("ready", flush=True)

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        json.loads(message.payload)
        if next(received) >= count:
            client.disconnect()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 20000  # as the collector asks
    client.connect("127.0.0.1", port, properties=props)
    client.loop_forever()


if __name__ == "__main__":
    main()
