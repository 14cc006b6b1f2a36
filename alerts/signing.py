"""Signatures: parktwin's own for generic webhooks, and the chat robots' schemes.

Generic: ``X-Parktwin-Signature: sha256=<hex>`` is HMAC-SHA256, keyed with the receiver's
secret, over ``<timestamp>.<body>`` where ``<timestamp>`` is the ``X-Parktwin-Timestamp``
header (Unix seconds). A receiver recomputes it over the raw body, compares in constant time
and refuses a timestamp outside its replay window (docs/alerts.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

TIMESTAMP_HEADER = "X-Parktwin-Timestamp"
SIGNATURE_HEADER = "X-Parktwin-Signature"
REPLAY_WINDOW_S = 300


def sign(secret: str, timestamp_s: int, body: bytes) -> str:
    """The generic signature header value: ``sha256=`` and the hex HMAC of ``ts.body``."""
    message = str(timestamp_s).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now_s: float,
    window_s: float = REPLAY_WINDOW_S,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within the window."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now_s - int(timestamp)) > window_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def dingtalk_query(secret: str, timestamp_ms: int) -> dict[str, str]:
    """DingTalk robot "加签": HMAC-SHA256 keyed with the secret over ``timestamp\\nsecret``,
    base64, as the ``timestamp`` (ms) and ``sign`` query parameters (aiohttp url-encodes)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return {"timestamp": str(timestamp_ms), "sign": base64.b64encode(digest).decode()}


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with its signature appended (``&timestamp=...&sign=...``, url-encoded)."""
    query = urllib.parse.urlencode(dingtalk_query(secret, timestamp_ms))
    return f"{url}{'&' if '?' in url else '?'}{query}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu / Lark custom bot: HMAC-SHA256 keyed with ``timestamp\\nsecret`` over nothing,
    base64; sent in the body as ``timestamp`` (seconds) and ``sign``."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
