"""Message bodies for each receiver format, rendered from the generic payload.

generic: the payload itself. DingTalk and WeCom group robots: markdown messages; Feishu (Lark)
custom bots: a text message (signed in the body when a secret is set); Slack incoming webhooks:
mrkdwn text with a fallback. Robots answer HTTP 200 even when they refuse a message, with an
error code in the JSON body: ``accepted`` reads it.
"""

from __future__ import annotations

from typing import Any

import orjson

from alerts.signing import feishu_sign


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.3f} {unit}" if abs(value) < 10 else f"{value:,.0f} {unit}"


def notice_lines(payload: dict[str, Any], bold: str) -> list[str]:
    """A notice that is not an alert (``kind`` "report"): headline, summary, one line a file."""
    out = [f"{bold}[REPORT] {payload['park']['name']}: {payload['period']}{bold}"]
    out.append(str(payload["summary"]))
    out += [f"{item['name']}: {item['link']}" for item in payload.get("files", [])]
    return out


def lines(payload: dict[str, Any], bold: str = "**") -> list[str]:
    """The message as lines: headline, summary, figures, since, link."""
    if payload.get("kind") == "report":
        return notice_lines(payload, bold)
    state = "RESOLVED" if payload["state"] == "resolved" else "FIRING"
    place = payload["place"]["name"]
    out = [
        f"{bold}[{state} · {payload['severity']}] {place}: {payload['rule']}{bold}",
        str(payload["summary"]),
        f"Value {_number(payload['value'], payload['unit'])}, "
        f"limit {_number(payload['limit'], payload['unit'])}"
        + (
            f" ({payload['over_by_pct']:+.1f} %)"
            if payload["over_by_pct"] is not None and payload["state"] == "firing"
            else ""
        ),
    ]
    if payload["forecast"] is not None:
        out.append(f"Forecast {_number(payload['forecast'], payload['unit'])}")
    out.append(f"Since {payload['since']} ({payload['park']['name']})")
    return out


def _markdown(payload: dict[str, Any]) -> str:
    text = "\n\n".join(lines(payload))
    if payload["dashboard_url"]:
        text += f"\n\n[Dashboard]({payload['dashboard_url']})"
    return text


def _plain(payload: dict[str, Any]) -> str:
    text = "\n".join(lines(payload, bold=""))
    if payload["dashboard_url"]:
        text += f"\n{payload['dashboard_url']}"
    return text


def _slack(payload: dict[str, Any]) -> dict[str, Any]:
    text = "\n".join(lines(payload, bold="*"))
    if payload["dashboard_url"]:
        text += f"\n<{payload['dashboard_url']}|Dashboard>"
    return {
        "text": _plain(payload).splitlines()[0],
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def render(format_: str, payload: dict[str, Any], secret: str | None, timestamp_s: int) -> bytes:
    """The request body for a receiver of ``format_``."""
    if format_ == "generic":
        body: dict[str, Any] = payload
    elif format_ == "dingtalk":
        title = lines(payload, bold="")[0]
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": _markdown(payload)}}
    elif format_ == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": _markdown(payload)}}
    elif format_ == "feishu":
        body = {"msg_type": "text", "content": {"text": _plain(payload)}}
        if secret:
            body = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s)} | body
    else:
        body = _slack(payload)
    return orjson.dumps(body)


def accepted(format_: str, answer: bytes) -> bool:
    """Whether a robot's HTTP 200 answer means the message was taken (an error code of 0)."""
    if format_ in ("generic", "slack"):
        return True
    try:
        data = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(data, dict):
        return False
    if format_ == "feishu":
        return data.get("code", data.get("StatusCode")) == 0
    return data.get("errcode") == 0
