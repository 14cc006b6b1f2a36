"""Limits a broker announces in its CONNACK that will lose readings, in words for a warning.

The broker does not tell a client what it drops: a message beyond a session's queue limit, or a
session that expired while its client was away, is gone without a word to the collector
(docs/reliability.md). What the CONNACK does say is read here once per connection, so that a
service started against such a broker says so at start-up.
"""

from __future__ import annotations

from parktwin.config import MqttSettings
from parktwin.wire.packets import SESSION_EXPIRY_INTERVAL, ConnAck

# Below this Receive Maximum a broker looks stock-configured (assumed: mosquitto announces its
# max_inflight_messages here, 20 unless set, and a broker left at that default usually also
# keeps its default queue limit, max_queued_messages 1000 per session).
SMALL_RECEIVE_MAXIMUM = 100


def limits_that_lose_data(connack: ConnAck, settings: MqttSettings) -> list[str]:
    """One sentence per announced limit that will lose readings or state; empty when none."""
    found: list[str] = []
    if connack.maximum_qos < settings.qos:
        found.append(
            f"the broker takes QoS {connack.maximum_qos} at most (asked {settings.qos}): "
            "a message lost on the way is not sent again"
        )
    expiry = connack.properties.get(SESSION_EXPIRY_INTERVAL)
    if isinstance(expiry, int) and expiry < settings.session_expiry_s:
        found.append(
            f"the broker keeps our session {expiry} s after we leave (asked "
            f"{settings.session_expiry_s} s): readings published while we are away longer "
            "are lost"
        )
    if connack.receive_maximum < SMALL_RECEIVE_MAXIMUM:
        found.append(
            f"the broker announces Receive Maximum {connack.receive_maximum}: it looks "
            "stock-configured, and a stock mosquitto keeps at most 1,000 messages per session "
            "(max_queued_messages) and drops the rest while we are away or behind; set "
            "max_inflight_messages 0 and max_queued_messages 0 as deploy/mosquitto does"
        )
    if not connack.retain_available:
        found.append("the broker keeps no retained messages: the twin's state is not kept")
    return found
