"""Alerts survive a webhook receiver that is away: the park goes on for two simulated hours
(an alert fires and resolves) while nothing listens, and both arrive, once each and in order,
when the receiver returns. A signed delivery replayed outside the time window is refused."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from helpers import (
    INSTANT_DEMAND,
    SECRET,
    Driver,
    Receiver,
    alert_park,
    delivering,
    receiver_settings,
    settings_for,
    until,
)

from alerts.signing import REPLAY_WINDOW_S, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


async def test_alerts_raised_while_the_receiver_is_down_arrive_once_each_when_it_returns(
    tmp_path: Path,
) -> None:
    receiver = await Receiver().start()
    port = receiver.port
    await receiver.stop()  # nothing listens on its port now
    settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    async with delivering(driver.service):
        await driver.fire()  # an hour of simulated time over the limit
        await driver.resolve()  # and an hour back under it
        await until(lambda: driver.service.dispatcher.stats.failed_attempts >= 5)
        back = await Receiver().start(port)
        try:
            await until(lambda: driver.service.dispatcher.stats.delivered == 2, 30)
        finally:
            await back.stop()
    states = [orjson.loads(r.body)["state"] for r in back.requests]
    assert states == ["firing", "resolved"]
    assert len({r.headers["Idempotency-Key"] for r in back.requests}) == 2
    assert driver.service.outbox.count("ops") == 0


async def test_a_receiver_refuses_a_delivery_replayed_outside_the_window_or_altered(
    tmp_path: Path,
) -> None:
    receiver = await Receiver().start()
    settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    try:
        async with delivering(driver.service):
            await driver.fire()
            await until(lambda: len(receiver.requests) == 1)
    finally:
        await receiver.stop()
    request = receiver.requests[0]
    stamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    sent_s = int(stamp)
    assert abs(sent_s - time.time()) < 60
    assert verify(SECRET, stamp, signature, request.body, now_s=sent_s + REPLAY_WINDOW_S)
    # The same request, byte for byte, replayed after the window, or dated before it.
    assert not verify(SECRET, stamp, signature, request.body, now_s=sent_s + REPLAY_WINDOW_S + 1)
    assert not verify(SECRET, stamp, signature, request.body, now_s=sent_s - REPLAY_WINDOW_S - 1)
    # A replay with a fresh timestamp does not carry a valid signature for it.
    assert not verify(SECRET, str(sent_s + 400), signature, request.body, now_s=sent_s + 400)
    assert not verify(SECRET, stamp, signature, request.body + b" ", now_s=sent_s)
    assert not verify("another secret", stamp, signature, request.body, now_s=sent_s)
