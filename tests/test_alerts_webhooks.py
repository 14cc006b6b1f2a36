"""Webhook delivery against real HTTP receivers: signatures a receiver can verify as documented,
retries until taken, an outbox that outlives a killed process, exactly one resolution, the chat
robots' formats and signatures, and a hanging receiver that holds up nobody else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from helpers import (
    ALERT_START,
    HOUR,
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


def verify_like_a_receiver(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """docs/alerts.md, "Verifying a signature", written out as a receiver would."""
    timestamp = headers["X-Parktwin-Timestamp"]
    signature = headers["X-Parktwin-Signature"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), signature)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


async def test_a_generic_webhook_is_signed_and_verifies_as_documented(
    receiver: Receiver, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    async with delivering(driver.service):
        await driver.fire()
        await until(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    assert verify_like_a_receiver(request.headers, request.body, SECRET)
    assert not verify_like_a_receiver(request.headers, request.body + b" ", SECRET)
    assert not verify_like_a_receiver(request.headers, request.body, "another secret")
    payload = orjson.loads(request.body)
    assert request.headers["Idempotency-Key"] == payload["idempotency_key"]
    assert payload["state"] == "firing"
    assert payload["rule"] == "plant-demand"
    assert payload["place"] == {"level": "building", "id": "plant-1", "name": "Plant 1"}
    assert payload["value"] == pytest.approx(500.0)
    assert payload["limit"] == 400.0
    assert payload["over_by"] == pytest.approx(100.0)
    assert payload["over_by_pct"] == pytest.approx(25.0)
    assert payload["since"].startswith("2026-03-03T09:")
    assert payload["dashboard_url"].startswith("https://grafana.example/d/parktwin-alerts?")
    assert "500 kW" in payload["summary"]


async def test_a_receiver_answering_500_three_times_gets_the_alert_on_the_fourth_try(
    tmp_path: Path,
) -> None:
    receiver = await Receiver(answers=[500, 500, 500]).start()
    try:
        settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
        driver = Driver(alert_park(INSTANT_DEMAND), settings)
        async with delivering(driver.service):
            await driver.fire()
            await until(lambda: driver.service.dispatcher.stats.delivered == 1)
    finally:
        await receiver.stop()
    assert len(receiver.requests) == 4
    assert [r.headers["X-Parktwin-Attempt"] for r in receiver.requests] == ["1", "2", "3", "4"]
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1
    assert driver.service.outbox.count("ops") == 0


KILLED_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from helpers import INSTANT_DEMAND, Driver, alert_park, receiver_settings, settings_for

    async def main():
        settings = settings_for(Path({folder!r}), {{"ops": receiver_settings({url!r})}})
        driver = Driver(alert_park(INSTANT_DEMAND), settings)
        await driver.fire()
        print("fired", flush=True)
        await driver.service.deliver()  # the receiver is down: retries until killed

    asyncio.run(main())
    """
)


async def test_an_alert_in_the_outbox_of_a_killed_process_is_delivered_after_restart(
    tmp_path: Path,
) -> None:
    receiver = await Receiver().start()
    port = receiver.port
    url = receiver.url
    await receiver.stop()  # down while the first process runs
    script = KILLED_PROCESS.format(tests=str(Path(__file__).parent), folder=str(tmp_path), url=url)
    process = subprocess.Popen(  # noqa: ASYNC220 (starting it does not block; reading does)
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert process.stdout is not None
        line = await asyncio.to_thread(process.stdout.readline)
        assert line.strip() == b"fired"
        await asyncio.sleep(0.5)  # a few failed attempts
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert len(list((tmp_path / "alerts" / "outbox" / "ops").glob("*.json"))) == 1
    # Restart: same folder, the receiver is back.
    receiver = await Receiver().start(port)
    try:
        settings = settings_for(tmp_path, {"ops": receiver_settings(url)})
        driver = Driver(alert_park(INSTANT_DEMAND), settings)
        async with delivering(driver.service):
            await until(lambda: len(receiver.requests) == 1)
            # The twin is rebuilt from the same readings (the broker redelivers them); the
            # engine knows the alert fired and skips what it has seen: nothing to announce.
            assert await driver.feed(ALERT_START, ALERT_START + 2 * HOUR, lambda t: 500.0) == []
            await asyncio.sleep(0.2)
    finally:
        await receiver.stop()
    assert [orjson.loads(r.body)["state"] for r in receiver.requests] == ["firing"]
    assert driver.service.outbox.count("ops") == 0


async def test_a_resolved_alert_sends_exactly_one_resolution_and_clears_its_retained_topic(
    receiver: Receiver, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    fingerprint, topic = driver.first_alert()
    async with delivering(driver.service):
        await driver.fire()
        assert orjson.loads(driver.retained[topic])["state"] == "firing"
        await driver.resolve()
        assert driver.retained[topic] == b""  # an empty retained message clears the topic
        # Hours more under the limit, with a tick of no news too: nothing more to say.
        assert (
            await driver.feed(ALERT_START + 2 * HOUR, ALERT_START + 6 * HOUR, lambda t: 100.0) == []
        )
        assert await driver.service.on_snapshot(driver.twin.snapshot()) == []
        await until(lambda: len(receiver.requests) == 2)
        await asyncio.sleep(0.3)
    states = [orjson.loads(r.body)["state"] for r in receiver.requests]
    assert states == ["firing", "resolved"]
    resolution = orjson.loads(receiver.requests[1].body)
    assert resolution["fingerprint"] == fingerprint
    assert resolution["reason"] == "cleared"
    assert resolution["duration_s"] >= 0


@pytest.mark.parametrize(
    "rules_left",
    ["    - {id: quiet, kind: device_silence}\n", "    []\n"],
    ids=["other-rules-kept", "no-rule-left"],
)
async def test_an_alert_whose_rule_was_removed_is_resolved_to_receivers_and_cleared_on_mqtt(
    receiver: Receiver, tmp_path: Path, rules_left: str
) -> None:
    settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url, secret=SECRET)})
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    fingerprint, topic = driver.first_alert()
    async with delivering(driver.service):
        await driver.fire()
        # Delivered means answered and taken out of the outbox: a request the receiver has
        # but the sender has not seen answered is sent again after the restart (at least once).
        await until(lambda: len(receiver.requests) == 1 and driver.service.outbox.count("ops") == 0)
    await driver.service.close()
    # Restarted with the rule gone from the park file: the same folder, the same twin state.
    restarted = Driver(alert_park(rules_left), settings)
    restarted.twin, restarted.energy_kwh = driver.twin, driver.energy_kwh
    async with delivering(restarted.service):
        states = await restarted.feed(ALERT_START + HOUR, ALERT_START + 2 * HOUR, lambda t: 500.0)
        assert states == ["resolved"]
        assert restarted.retained[topic] == b""  # an empty retained message clears the topic
        await until(lambda: len(receiver.requests) == 2)
        await asyncio.sleep(0.3)
    await restarted.service.close()
    assert [orjson.loads(r.body)["state"] for r in receiver.requests] == ["firing", "resolved"]
    resolution = orjson.loads(receiver.requests[1].body)
    assert resolution["fingerprint"] == fingerprint and resolution["rule"] == "plant-demand"
    assert resolution["reason"] == "rule removed"


async def test_chat_robots_get_their_own_formats_and_signatures(
    receiver: Receiver, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path,
        {
            "ding": receiver_settings(receiver.url, format="dingtalk", secret=SECRET),
            "wecom": receiver_settings(receiver.url, format="wecom"),
            "lark": receiver_settings(receiver.url, format="feishu", secret=SECRET),
            "slack": receiver_settings(receiver.url, format="slack"),
        },
    )
    driver = Driver(alert_park(INSTANT_DEMAND), settings)
    async with delivering(driver.service):
        await driver.fire()
        await until(lambda: len(receiver.requests) == 4)
    bodies = [orjson.loads(r.body) for r in receiver.requests]
    ding = next(
        r
        for r, b in zip(receiver.requests, bodies, strict=True)
        if "msgtype" in b and "title" in b["markdown"]
    )
    # DingTalk: HMAC-SHA256 keyed with the secret over "timestamp\nsecret", base64, in the query.
    timestamp = ding.query["timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256)
    assert ding.query["sign"] == base64.b64encode(expected.digest()).decode()
    assert ding.query["access_token"] == "t0ken"
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    wecom = next(b for b in bodies if "content" in b.get("markdown", {}))
    assert "Plant 1" in wecom["markdown"]["content"]
    lark = next(b for b in bodies if b.get("msg_type") == "text")
    # Feishu: HMAC-SHA256 keyed with "timestamp\nsecret" over nothing, base64, in the body.
    key = f"{lark['timestamp']}\n{SECRET}".encode()
    assert lark["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert "FIRING" in lark["content"]["text"]
    slack = next(b for b in bodies if "blocks" in b)
    assert "grafana.example" in slack["blocks"][0]["text"]["text"]


async def test_a_hanging_receiver_times_out_and_holds_up_no_other_receiver(
    receiver: Receiver, tmp_path: Path
) -> None:
    hanging = await Receiver(hang=True).start()
    try:
        settings = settings_for(
            tmp_path,
            {
                "stuck": receiver_settings(hanging.url, timeout_s=0.5),
                "ops": receiver_settings(receiver.url),
            },
        )
        driver = Driver(alert_park(INSTANT_DEMAND), settings)
        async with delivering(driver.service):
            started = time.monotonic()
            await driver.fire()
            await until(lambda: len(receiver.requests) == 1, 5)
            delivered_after_s = time.monotonic() - started
            await until(lambda: len(hanging.requests) >= 2, 5)  # timed out, tried again
    finally:
        await hanging.stop()
    assert delivered_after_s < 0.5
    assert driver.service.outbox.count("stuck") == 1  # kept for when it answers


async def test_a_refused_delivery_is_set_aside_not_retried_forever(tmp_path: Path) -> None:
    receiver = await Receiver(answers=[400]).start()
    try:
        settings = settings_for(tmp_path, {"ops": receiver_settings(receiver.url)})
        driver = Driver(alert_park(INSTANT_DEMAND), settings)
        async with delivering(driver.service):
            await driver.fire()
            await until(lambda: driver.service.dispatcher.stats.set_aside == 1)
    finally:
        await receiver.stop()
    assert len(receiver.requests) == 1
    assert len(list((tmp_path / "alerts" / "outbox" / "ops" / "failed").glob("*.json"))) == 1
