"""Alerts on the twin's snapshots: evaluate each snapshot, announce changes, deliver them.

A program attaches the service to the twin (``programs.wiring``); the twin knows it only as a
snapshot listener.

``on_snapshot`` runs in the twin's tick and does only quick work: evaluate the rules, write the
changes to the outbox (file I/O in a thread), queue retained MQTT messages. ``deliver`` is its
own task: it sends what the outbox holds, however slow the receivers, and never holds up a tick.
Order on disk keeps the promise of at-least-once: the outbox is written before the engine's
state, so a crash between the two repeats a change (same idempotency key) rather than losing it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from alerts.delivery import (
    INFLUX_TARGET,
    Dispatcher,
    InfluxSender,
    RetryPolicy,
    Target,
    webhook_target,
)
from alerts.engine import AlertEngine, AlertEvent, load_state
from alerts.outbox import Outbox
from alerts.payload import alert_payload
from parktwin.atomic import atomic_write
from parktwin.config import Settings
from parktwin.contract.topics import alert as alert_topic
from parktwin.influx.factory import make_writer
from parktwin.influx.writer import PointWriter
from parktwin.park.alerts import SEVERITY_RANK
from parktwin.park.model import Park
from parktwin.park.references import alert_reference_errors
from twin.state.snapshot import TwinSnapshot

log = logging.getLogger(__name__)

# (topic, payload, retain) -> whether the MQTT client took it; the twin's Intake.publish_nowait.
Publish = Callable[..., bool]
INFLUX_RETRY = RetryPolicy(initial_s=1.0, max_s=60.0, give_up_after_s=7 * 86400.0)


class AlertService:
    """One park's alert engine, outbox and delivery."""

    def __init__(self, park: Park, settings: Settings, publish: Publish) -> None:
        errors = alert_reference_errors(park)
        if errors:
            raise ValueError(
                "; ".join(".".join(str(p) for p in path) + f": {msg}" for path, msg in errors)
            )
        self.park = park
        self.settings = settings.alerts
        self.folder = self.settings.folder / park.park.id
        # With no rules left, a saved state may still hold alerts whose rules were removed:
        # they must be announced resolved and their retained topics cleared.
        self.enabled = self.settings.enabled and (
            bool(park.alerts.rules) or self.state_path.exists()
        )
        self.engine = AlertEngine(park)
        self.outbox = Outbox(self.folder / "outbox")
        self._publish = publish
        self._retained: dict[str, bytes] = {}  # waiting for the MQTT client to take them
        self._loaded = False
        self._saved_s = time.monotonic()
        self._writer: PointWriter | None = None
        targets = {name: webhook_target(name, r) for name, r in self.settings.receivers.items()}
        if self.enabled and self.settings.write_influx:
            self._writer = make_writer(settings.influx)
            targets[INFLUX_TARGET] = Target(InfluxSender(self._writer), INFLUX_RETRY)
        self.dispatcher = Dispatcher(self.outbox, targets, random.Random())

    @property
    def state_path(self) -> Path:
        return self.folder / "engine.json"

    async def on_snapshot(self, snapshot: TwinSnapshot) -> list[AlertEvent]:
        """Evaluate the rules at this snapshot; enqueue and publish what changed."""
        if not self.enabled:
            return []
        if not self._loaded:
            await self._load()
        events = self.engine.evaluate(snapshot)
        if events:
            payloads = [self._payload(e) for e in events]
            await asyncio.to_thread(self._enqueue, payloads, time.time())
            for target in self.dispatcher.targets:
                self.dispatcher.wake(target)
            for event, payload in zip(events, payloads, strict=True):
                topic = alert_topic(self.park.park.id, event.fingerprint)
                self._retained[topic] = orjson.dumps(payload) if event.state == "firing" else b""
                log.info("alert %s: %s", event.state, payload["summary"])
        self._flush_retained()
        if events or time.monotonic() - self._saved_s >= self.settings.state_interval_s:
            await self._save()
        return events

    async def deliver(self) -> None:
        """Deliver from the outbox until cancelled (returns at once when there is nothing to)."""
        if not self.settings.enabled or not self.dispatcher.targets:
            return
        await self.dispatcher.run()

    async def announce(self, payload: dict[str, Any]) -> int:
        """Send a notice that is not an alert (a report is ready) to every webhook receiver,
        through the outbox like an alert; returns how many receivers it was queued for."""
        if not self.settings.enabled:
            return 0
        receivers = [t for t in self.dispatcher.targets if t in self.settings.receivers]
        await asyncio.to_thread(self._put, receivers, payload, time.time())
        for target in receivers:
            self.dispatcher.wake(target)
        return len(receivers)

    def _put(self, targets: list[str], payload: dict[str, Any], now_s: float) -> None:
        for target in targets:
            self.outbox.put(target, payload, now_s)

    async def close(self) -> None:
        """Save what the engine learnt; release the InfluxDB writer."""
        if self.enabled and self._loaded:
            await self._save()
        if self._writer is not None:
            await self._writer.aclose()

    def active_alerts(self) -> list[dict[str, Any]]:
        """The alerts firing now, most severe first, as the fields a screen shows."""
        rank = {"critical": 0, "warning": 1, "info": 2}
        shown = []
        for event in self.engine.active():
            payload = alert_payload(self.park, event, None)
            shown.append(
                {
                    "fingerprint": event.fingerprint,
                    "severity": payload["severity"],
                    "rule": payload["rule"],
                    "place": payload["place"],
                    "summary": payload["summary"],
                }
            )
        return sorted(shown, key=lambda a: (rank.get(a["severity"], 9), a["rule"]))

    def _payload(self, event: AlertEvent) -> dict[str, Any]:
        return alert_payload(self.park, event, self.settings.dashboard_url)

    def _enqueue(self, payloads: list[dict[str, Any]], now_s: float) -> None:
        for payload in payloads:
            for target in self.dispatcher.targets:
                if self._wants(target, payload):
                    self.outbox.put(target, payload, now_s)

    def _wants(self, target: str, payload: dict[str, Any]) -> bool:
        receiver = self.settings.receivers.get(target)
        if receiver is None:
            return True  # InfluxDB takes every change
        if receiver.rules and payload["rule"] not in receiver.rules:
            return False
        return SEVERITY_RANK[payload["severity"]] >= SEVERITY_RANK[receiver.min_severity]

    def _flush_retained(self) -> None:
        for topic, body in list(self._retained.items()):
            if self._publish(topic, body, retain=True):
                del self._retained[topic]

    async def _load(self) -> None:
        data = await asyncio.to_thread(_read_if_exists, self.state_path)
        self._loaded = True
        if data is None:
            return
        try:
            self.engine.state = load_state(data)
        except ValueError as exc:  # a damaged file: relearn rather than refuse to start
            log.error("alert state %s unreadable (%s): starting afresh", self.state_path, exc)
            return
        # Retained messages may have been lost with the broker: publish the active ones again.
        for event in self.engine.active():
            topic = alert_topic(self.park.park.id, event.fingerprint)
            self._retained[topic] = orjson.dumps(self._payload(event))

    async def _save(self) -> None:
        await asyncio.to_thread(atomic_write, self.state_path, self.engine.dump())
        self._saved_s = time.monotonic()


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
