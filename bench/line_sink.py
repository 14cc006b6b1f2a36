"""A stand-in for InfluxDB that only counts: it answers the v1 ``/write`` with 204 and counts the
lines, so that a drain into it shows what the collector itself costs, without InfluxDB's own
work on the same two cores (issue #20).

It is not a database and checks nothing of the line protocol but its last field: every line's
timestamp is kept, so that ``/count`` can say how many distinct points arrived and how many
arrived more than once (the ingest benchmarks give every message a timestamp of its own).
``/query`` (the collector's ``CREATE DATABASE``) answers an empty success. HTTP/1.1 with
keep-alive and ``Content-Length`` bodies, as aiohttp sends them.

Run by the harness as its own process, so that its CPU is not the collector's:

    .venv/bin/python bench/line_sink.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Tally:
    """What the sink has taken in: requests, lines, and the distinct timestamps among them."""

    requests: int = 0
    lines: int = 0
    timestamps: set[bytes] = field(default_factory=set)

    def take(self, body: bytes) -> None:
        """Count the lines of one ``/write`` body (no trailing newline needed)."""
        if not body.strip():
            return
        lines = body.rstrip(b"\n").split(b"\n")
        self.requests += 1
        self.lines += len(lines)
        self.timestamps.update([line[line.rfind(b" ") + 1 :] for line in lines])

    def report(self) -> bytes:
        distinct = len(self.timestamps)
        return json.dumps(
            {
                "requests": self.requests,
                "lines": self.lines,
                "distinct": distinct,
                "repeated": self.lines - distinct,
            }
        ).encode()


def response(status: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + body


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tally: Tally
) -> None:
    """Answer one keep-alive connection's requests until the client closes it."""
    try:
        while True:
            request_line = await reader.readline()
            if not request_line:
                return
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            target = request_line.split(b" ")[1]
            path = target.split(b"?", 1)[0]
            if path == b"/write":
                tally.take(body)
                writer.write(response("204 No Content"))
            elif path == b"/query":
                writer.write(response("200 OK", b'{"results":[{"statement_id":0}]}'))
            elif path == b"/count":
                writer.write(response("200 OK", tally.report()))
            else:
                writer.write(response("404 Not Found"))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def serve(port: int) -> None:
    tally = Tally()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(r, w, tally), "127.0.0.1", port
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


class SinkCounter:
    """The harness's side: what a running sink has counted (the ``StoredCounter`` interface)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def report(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/count", timeout=30) as answer:
            counted: dict[str, int] = json.loads(answer.read())
        return counted

    def count(self) -> int:
        """Lines taken in so far."""
        return self.report()["lines"]

    def exact(self) -> int:
        """Distinct points (timestamps) taken in; ``repeated`` says how many came again."""
        return self.report()["distinct"]


def main() -> None:
    asyncio.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
