"""How long ``parktwin demo --history N`` takes to start: history stored, twin rebuilt, live.

Runs the demo as a user does, in a fresh temporary state folder (its own embedded mosquitto and
InfluxDB on free ports), and times from launch to the first live summary (the twin's first tick
after its rebuild): the history's backfill, the twin's rebuild from InfluxQL, and the rest. The
baseline, in the same run: the same demo without history (servers started, twin empty), so the
figures can be read against what starting costs anyway on the machine at that moment.

    .venv/bin/python bench/demo_history.py --history 30d
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HISTORY_DONE = re.compile(r"^history: ([\d,]+) readings of .* stored in (\d+) s$")
REBUILDING = "twin: rebuilding from the stored history"
LIVE = re.compile(r"^simulated time ")


@dataclass
class Start:
    """Seconds from launch to each milestone of one demo start."""

    history_s: float | None
    readings: int
    live_s: float


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(history: str | None, timeout_s: float, resolution_s: float | None = None) -> Start:
    """Launch, wait for the first live summary, stop with Ctrl-C; the milestones."""
    with tempfile.TemporaryDirectory(prefix="parktwin-demo-bench-") as folder:
        env = dict(os.environ, PARKTWIN_INFLUX__URL=f"http://127.0.0.1:{free_port()}")
        command = [sys.executable, "-m", "programs", "demo", "--state-dir", f"{folder}/state"]
        command += ["--api-port", "0", "--refresh-s", "0.5"]
        command += ["--history", history] if history else []
        if resolution_s is not None:
            command += ["--history-resolution-s", f"{resolution_s:g}"]
        launched = time.monotonic()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert process.stdout is not None
        history_s, readings, live_s = None, 0, None
        seen: list[str] = []
        try:
            for line in process.stdout:
                seen.append(line)
                now = time.monotonic() - launched
                if found := HISTORY_DONE.match(line.strip()):
                    history_s, readings = now, int(found.group(1).replace(",", ""))
                if LIVE.match(line.strip()):
                    live_s = now
                    break
                if now > timeout_s:
                    break
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        if live_s is None:
            tail = "".join(seen[-20:])
            raise SystemExit(f"the demo did not go live within {timeout_s:.0f} s:\n{tail}")
        return Start(history_s, readings, live_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="30d")
    parser.add_argument("--timeout-s", type=float, default=600.0)
    parser.add_argument(
        "--resolution-s", type=float, default=None, help="history's reporting period (default 900)"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    baseline = start_demo(None, args.timeout_s)
    with_history = start_demo(args.history, args.timeout_s, args.resolution_s)
    assert with_history.history_s is not None
    rebuild_s = with_history.live_s - with_history.history_s
    print(f"load average at start {load:.1f} (2 cores)")
    print(f"{'start':<32} {'s':>7} {'x baseline':>11}")
    print(f"{'baseline: no history':<32} {baseline.live_s:7.1f} {1.0:11.1f}")
    print(
        f"{'history ' + args.history + ': stored':<32} {with_history.history_s:7.1f} "
        f"({with_history.readings:,} readings)"
    )
    print(f"{'  then twin rebuilt and live':<32} {rebuild_s:7.1f}")
    print(
        f"{'history ' + args.history + ': live':<32} {with_history.live_s:7.1f} "
        f"{with_history.live_s / baseline.live_s:11.1f}"
    )


if __name__ == "__main__":
    main()
