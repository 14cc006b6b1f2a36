"""Delivery from the outbox: one worker per target, in order, retried until taken.

Each receiver has its own task, so a receiver that hangs or is down delays only its own
messages: never the twin's tick (which only writes to the outbox) and never other receivers.
A request has a timeout for the whole exchange; failures (timeouts, refused connections, 5xx,
429, a robot's non-zero error code) are retried with exponential backoff and full jitter, other
4xx are refused for good and set aside. A token bucket keeps each receiver under its rate.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from alerts.formats import accepted, render
from alerts.lines import alert_line
from alerts.outbox import Delivery, Outbox
from alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, dingtalk_url, sign
from parktwin.alert_settings import ReceiverSettings
from parktwin.backoff import backoff_s
from parktwin.influx.writer import PointWriter, WriteError, is_retryable_status, parse_retry_after

log = logging.getLogger(__name__)

INFLUX_TARGET = "_influxdb"  # not a valid receiver name, so it never clashes with one


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went: delivered, or worth retrying (after the server's delay if any)."""

    delivered: bool
    retry: bool = True
    retry_after_s: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float
    max_s: float
    give_up_after_s: float


@dataclass
class DeliveryStats:
    """Counters of one run, per service."""

    attempts: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    set_aside: int = 0


class Sender(Protocol):
    """Delivers one message to one target."""

    async def send(
        self, session: aiohttp.ClientSession, delivery: Delivery, attempt: int
    ) -> Outcome: ...


class TokenBucket:
    """At most ``burst`` messages at once, refilled at ``rate_per_s``."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.tokens = float(burst)
        self.updated_s = time.monotonic()

    async def take(self) -> None:
        """Wait for a token and take it."""
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated_s) * self.rate_per_s)
            self.updated_s = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate_per_s)


class WebhookSender:
    """POSTs a payload in the receiver's format, signed as its format requires."""

    def __init__(self, name: str, settings: ReceiverSettings) -> None:
        self.name = name
        self.settings = settings

    async def send(
        self, session: aiohttp.ClientSession, delivery: Delivery, attempt: int
    ) -> Outcome:
        settings = self.settings
        assert settings.url is not None  # the settings refuse a receiver without one
        url = settings.url.get_secret_value()
        secret = settings.secret.get_secret_value() if settings.secret else None
        now_s = time.time()  # signatures carry wall time: receivers check it against theirs
        body = render(settings.format, delivery.payload, secret, int(now_s))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "parktwin-alerts/1",
            "Idempotency-Key": delivery.key,
            "X-Parktwin-Event": str(delivery.payload["state"]),
            "X-Parktwin-Attempt": str(attempt + 1),
        }
        if settings.format == "generic" and secret:
            headers[TIMESTAMP_HEADER] = str(int(now_s))
            headers[SIGNATURE_HEADER] = sign(secret, int(now_s), body)
        if settings.format == "dingtalk" and secret:
            url = dingtalk_url(url, secret, int(now_s * 1000))
        try:
            async with session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=settings.timeout_s),
            ) as response:
                answer = await response.read()
                status = response.status
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            return Outcome(False, detail=f"no answer within {settings.timeout_s:g} s")
        except aiohttp.ClientError as exc:
            # The exception text may hold the URL, and the URL may hold a token: type only.
            return Outcome(False, detail=type(exc).__name__)
        if 200 <= status < 300:
            if accepted(settings.format, answer):
                return Outcome(True)
            return Outcome(False, detail=f"robot refused: {answer[:200]!r}")
        retry = is_retryable_status(status) or status == 408
        return Outcome(False, retry=retry, retry_after_s=retry_after, detail=f"HTTP {status}")


class InfluxSender:
    """Writes the alert's point to InfluxDB (measurement ``alerts``)."""

    def __init__(self, writer: PointWriter) -> None:
        self.writer = writer
        self._ready = False

    async def send(
        self, session: aiohttp.ClientSession, delivery: Delivery, attempt: int
    ) -> Outcome:
        try:
            if not self._ready:
                await self.writer.ensure_target()
                self._ready = True
            await self.writer.write([alert_line(delivery.payload)])
        except WriteError as exc:
            return Outcome(
                False, retry=exc.retryable, retry_after_s=exc.retry_after_s, detail=str(exc)
            )
        return Outcome(True)


@dataclass(frozen=True, slots=True)
class Target:
    """A sender with its retry policy and rate limit."""

    sender: Sender
    retry: RetryPolicy
    bucket: TokenBucket | None = None


class Dispatcher:
    """Runs one worker per target until cancelled; ``wake`` says the outbox has news."""

    def __init__(self, outbox: Outbox, targets: dict[str, Target], rng: random.Random) -> None:
        self.outbox = outbox
        self.targets = targets
        self.rng = rng
        self.stats = DeliveryStats()
        self._news = {name: asyncio.Event() for name in targets}

    def wake(self, target: str) -> None:
        event = self._news.get(target)
        if event is not None:
            event.set()

    async def run(self) -> None:
        """Deliver until cancelled; what is not delivered stays in the outbox for next time."""
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
            for name in self.targets:
                group.create_task(self._worker(session, name))

    async def _worker(self, session: aiohttp.ClientSession, name: str) -> None:
        news = self._news[name]
        while True:
            news.clear()  # before listing, so that a put during the listing is not missed
            deliveries = await asyncio.to_thread(self.outbox.pending, name)
            if not deliveries:
                await news.wait()
                continue
            for delivery in deliveries:
                await self._deliver(session, name, delivery)

    async def _deliver(self, session: aiohttp.ClientSession, name: str, delivery: Delivery) -> None:
        target = self.targets[name]
        attempt = 0
        while True:
            if target.bucket is not None:
                await target.bucket.take()
            self.stats.attempts += 1
            outcome = await target.sender.send(session, delivery, attempt)
            if outcome.delivered:
                await asyncio.to_thread(self.outbox.done, delivery)
                # Counted once the outbox has let it go, so the count never runs ahead of it.
                self.stats.delivered += 1
                return
            self.stats.failed_attempts += 1
            age_s = time.time() - delivery.created_s
            if not outcome.retry or age_s > target.retry.give_up_after_s:
                log.error(
                    "alert %s to %s set aside after %d attempts: %s",
                    delivery.key,
                    name,
                    attempt + 1,
                    outcome.detail,
                )
                await asyncio.to_thread(self.outbox.fail, delivery)
                self.stats.set_aside += 1
                return
            delay = backoff_s(attempt, target.retry.initial_s, target.retry.max_s, self.rng)
            if outcome.retry_after_s is not None:
                delay = max(delay, min(outcome.retry_after_s, target.retry.max_s))
            log.warning(
                "alert %s to %s failed (%s); attempt %d, retrying in %.1f s",
                delivery.key,
                name,
                outcome.detail,
                attempt + 1,
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)


def webhook_target(name: str, settings: ReceiverSettings) -> Target:
    """A receiver's sender, retry policy and rate limit from its settings."""
    return Target(
        WebhookSender(name, settings),
        RetryPolicy(settings.retry_initial_s, settings.retry_max_s, settings.give_up_after_s),
        TokenBucket(settings.rate_per_minute / 60, settings.burst),
    )
