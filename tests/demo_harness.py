"""``parktwin demo`` as the user runs it: a child process whose output the tests read."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import free_port

VIEW_URL = re.compile(r"^twin view: (http://\S+/)$")
FINAL = re.compile(r"^demo: simulated (\S+) \.\. (\S+); readings published (\d+), received (\d+), ")
ENERGY_TODAY = re.compile(r"^energy today: ([\d,.]+) kWh")
SIM_TIME = re.compile(r"^simulated time (\S+)$")


@dataclass
class DemoRun:
    """One ``parktwin demo`` process; its output is collected line by line as it comes."""

    state_dir: Path
    args: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def start(self) -> DemoRun:
        env = dict(os.environ)
        # Nothing listens there: the demo must run, and say so, without a database.
        env["PARKTWIN_INFLUX__URL"] = f"http://127.0.0.1:{free_port()}"
        command = [sys.executable, "-m", "programs", "demo", "--state-dir", str(self.state_dir)]
        self.process = subprocess.Popen(
            [*command, "--api-port", "0", "--refresh-s", "1", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float = 60) -> re.Match[str]:
        """The first output line matching ``pattern``; fails with the output after the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := pattern.match(line):
                    return found
            assert self.process is not None
            if self.process.poll() is not None and not any(pattern.match(x) for x in self.lines):
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern.pattern!r} in:\n" + self.output())

    def last(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The last output line matching ``pattern``."""
        found = [m for line in self.lines if (m := pattern.match(line))]
        assert found, f"no line matching {pattern.pattern!r} in:\n" + self.output()
        return found[-1]

    def interrupt(self, timeout_s: float = 60) -> int:
        """Ctrl-C, and the exit code once the demo has stopped."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def wait(self, timeout_s: float = 90) -> int:
        assert self.process is not None
        code = self.process.wait(timeout=timeout_s)
        time.sleep(0.2)  # let the reader take the last lines
        return code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return "\n".join(self.lines[-80:])
