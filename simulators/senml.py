"""SenML (RFC 8428) encoder: the second payload format, for a share of simulated devices.

The inverse of :mod:`parktwin.contract.senml`: a quantity ``<base>_<unit suffix>`` becomes a
record named ``<base>`` with the SenML unit of that suffix; a quantity whose unit SenML lacks
(``flue_gas_nm3_h``) goes by its full name without a unit, which the decoder accepts as is.
"""

from __future__ import annotations

import orjson

from parktwin.contract.reading import Reading

# our unit suffix -> (SenML unit, factor from our unit into the SenML unit)
_SUFFIXES: tuple[tuple[str, str, float], ...] = (
    ("_m3_h", "m3/s", 1.0 / 3600.0),
    ("_kg_h", "kg/h", 1.0),
    ("_mg_m3", "mg/m3", 1.0),
    ("_kwh", "kWh", 1.0),
    ("_kw", "kW", 1.0),
    ("_gj", "J", 1e9),
    ("_m3", "m3", 1.0),
    ("_kg", "kg", 1.0),
    ("_ppm", "ppm", 1.0),
    ("_persons", "count", 1.0),
    ("_c", "Cel", 1.0),
    ("_pct", "%", 1.0),
)


def senml_record(name: str, value: float) -> dict[str, object]:
    """One SenML record for a named quantity."""
    for suffix, unit, factor in _SUFFIXES:
        if name.endswith(suffix):
            return {"n": name[: -len(suffix)], "u": unit, "v": value * factor}
    return {"n": name, "v": value}


def encode_senml(reading: Reading) -> bytes:
    """A SenML pack of one reading: base name = device id, base time = event time in seconds."""
    records: list[dict[str, object]] = []
    for name, value in reading.values.items():
        records.append(senml_record(name, value))
    records[0] = {"bn": f"{reading.device_id}/", "bt": reading.ts_ms / 1000.0, **records[0]}
    return orjson.dumps(records)
