"""Fuzz target: every decoder of outside input, fed by atheris (libFuzzer).

    pip install -e '.[fuzz]'
    python tests/fuzz/fuzz_decode.py -max_total_time=60 tests/data/bad_messages

Each input is read as a corpus case (tests/fuzz/message_case.py): header lines with the topic,
then the payload; bytes without a header are a payload on a good device's topic. The message
goes through the collector's validation and the SenML/JSON decoder, the payload also through
the twin's monthly-inputs parser. Anything but their own refusal (PayloadError,
MonthlyInputsError), or an accepted reading that breaks the contract, is a crash libFuzzer
reports with the input that caused it. Give a scratch folder first to keep new inputs out of
the seed corpus:

    python tests/fuzz/fuzz_decode.py -max_total_time=60 /tmp/new tests/data/bad_messages
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from parktwin.config import CollectorSettings
    from parktwin.contract import payload as payload_codec
    from parktwin.contract.quantities import KINDS, QUANTITIES
    from parktwin.contract.reading import PayloadError
    from parktwin.validation import Limits, validate_message
    from twin.model.inputs import MonthlyInputsError, parse_monthly_inputs

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the corpus reader and the tests' small park
from helpers import small_park  # noqa: E402
from message_case import parse_case  # noqa: E402

PARK = small_park("fuzz")
LIMITS = Limits.from_settings(CollectorSettings())
ARRIVAL_MS = 1_767_225_600_000


def check(data: bytes) -> None:
    """One fuzz input: refusals are fine, anything else must keep the contract."""
    case = parse_case(data)
    topic = case.topic_for("fuzz")
    try:
        readings = validate_message(PARK, LIMITS, topic, case.payload, ARRIVAL_MS)
    except PayloadError:
        readings = []
    for reading in readings:
        allowed = KINDS[PARK.devices_by_id[reading.device_id].kind].quantities
        assert LIMITS.earliest_ts_ms <= reading.ts_ms <= ARRIVAL_MS + LIMITS.max_future_ms
        for name, value in reading.values.items():
            assert name in allowed, name
            assert math.isfinite(value), value
            assert QUANTITIES[name].min_value <= value <= QUANTITIES[name].max_value
    with contextlib.suppress(PayloadError):
        payload_codec.decode("dev", case.payload)
    with contextlib.suppress(MonthlyInputsError):
        parse_monthly_inputs(case.payload)


def main() -> None:
    """Run libFuzzer with the command line's options (see the module docstring)."""
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
