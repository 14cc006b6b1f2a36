"""Counting what reached InfluxDB 1.x: the ground truth of every ingest benchmark."""

from __future__ import annotations

import bisect
import json
import urllib.error
import urllib.parse
import urllib.request


def count_points(url: str, database: str, since_ms: int | None = None) -> int:
    """Points stored in ``database`` (from ``since_ms`` on); 0 while it does not exist, -1 while
    InfluxDB is down."""
    query = 'SELECT count("power_kw") FROM "electricity"'
    if since_ms is not None:
        query += f" WHERE time >= {since_ms}ms"
    params = urllib.parse.urlencode({"db": database, "q": query})
    try:
        with urllib.request.urlopen(f"{url}/query?{params}", timeout=30) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return -1  # the database is down (the outage benchmark)
    result = body["results"][0]
    series = result.get("series")
    if not series:
        return 0
    return int(series[0]["values"][0][1])


class StoredCounter:
    """Counts a run's stored points cheaply while they arrive, from the send times of its
    messages (ascending, one point each).

    A count of the whole database costs InfluxDB 1.6 more the more it holds (about 150 ms at
    20,000 points on the 2-core VM, taken from the consumer under test); this one counts only
    from a little before the last count on: messages sent before that point, less ``margin``,
    are taken as stored. ``exact`` counts everything, to confirm the end of a run.
    """

    def __init__(self, url: str, database: str, sent_ms: list[int], margin: int) -> None:
        self.url, self.database, self.sent_ms, self.margin = url, database, sent_ms, margin
        self.known = 0

    def count(self) -> int:
        if not self.sent_ms:
            return 0
        start = bisect.bisect_left(self.sent_ms, self.sent_ms[max(0, self.known - self.margin)])
        recent = count_points(self.url, self.database, self.sent_ms[start])
        if recent >= 0:
            self.known = start + recent
        return self.known

    def exact(self) -> int:
        return count_points(self.url, self.database)
