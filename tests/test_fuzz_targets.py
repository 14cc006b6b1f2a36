"""The atheris fuzz targets (tests/fuzz/) run for a bounded time: the wire's inbound decoder for
20 s, the payload decoders for 10 s. A crash fails the test with libFuzzer's report. atheris is a
test dependency: under CI its absence is an error, elsewhere a skip."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import mixed_stream

FUZZ = Path(__file__).resolve().parent / "fuzz"


def run_target(target: str, seconds: int, corpus: list[Path]) -> None:
    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("CI"):
            pytest.fail("atheris is not installed: pip install -e '.[test]'")
        pytest.skip("atheris is not installed: pip install -e '.[test]'")
    done = subprocess.run(
        [
            sys.executable,
            str(FUZZ / target),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=1024",
            "-print_final_stats=1",
            *map(str, corpus),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done " in done.stderr  # libFuzzer ran to its time limit


def test_the_wire_decoder_survives_twenty_seconds_of_fuzzing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    stream = mixed_stream()
    for seed in range(4):
        (corpus / f"mixed-{seed}").write_bytes(bytes((seed,)) + stream)
    run_target("fuzz_wire.py", 20, [corpus])


def test_the_payload_decoders_survive_ten_seconds_of_fuzzing(tmp_path: Path) -> None:
    run_target("fuzz_decode.py", 10, [tmp_path, FUZZ.parent / "data" / "bad_messages"])
