"""The twin's live state as JSON bytes and back.

State is stored by name (``device|quantity`` keys, device ids), not by position, so a checkpoint
restores onto a park file that has since gained or lost devices: new ones start empty, removed
ones are dropped. Floats survive the round trip exactly (orjson writes the shortest repr), so a
restored twin continues bit for bit as if it had never stopped.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import orjson

from parktwin.periods import Granularity
from twin.model.costs import CostLedger, CostPlan
from twin.model.counters import NEVER, CounterEvent, Drop, Replacement
from twin.model.inputs import MonthlyInputs
from twin.model.live import IngestStats, LiveState
from twin.model.topology import Topology

FORMAT = "parktwin.twin.checkpoint/1"


class CheckpointError(ValueError):
    """Bytes that are not a checkpoint of this format or of this park."""


def encode(
    park_id: str, topology: Topology, state: LiveState, plan: CostPlan | None = None
) -> bytes:
    """The live state as JSON bytes."""
    seen = np.flatnonzero(state.last_ts != NEVER)
    book = state.counters
    devices = np.flatnonzero(
        (state.last_seen_ms != NEVER) | (state.resets > 0) | (state.offline_ms != NEVER)
    )
    document: dict[str, Any] = {
        "format": FORMAT,
        "park": park_id,
        "watermark_ms": None if state.watermark_ms == NEVER else state.watermark_ms,
        "stats": asdict(state.stats),
        "channels": {
            "keys": [topology.channel_keys[i] for i in seen],
            "ts_ms": state.last_ts[seen].tolist(),
            "value": state.last_value[seen].tolist(),
            "mark": state.counters.mark[seen].tolist(),
        },
        "counters": {
            "drops": {topology.channel_keys[c]: asdict(d) for c, d in book.drops.items()},
            "queued": {
                topology.channel_keys[c]: [asdict(r) for r in queue]
                for c, queue in book.queued.items()
            },
            "applied": sorted(book.applied),
            "events": [asdict(e) for e in book.events],
        },
        "devices": {
            "ids": [topology.device_ids[i] for i in devices],
            "last_seen_ms": [
                None if t == NEVER else t for t in state.last_seen_ms[devices].tolist()
            ],
            "resets": state.resets[devices].tolist(),
            "offline_ms": [None if t == NEVER else t for t in state.offline_ms[devices].tolist()],
        },
        "flows": topology.flow_keys,
        "ledger": {
            granularity.value: {str(start): row.tolist() for start, row in sorted(table.items())}
            for granularity, table in state.ledger.periods.items()
        },
        "monthly": {month: m.model_dump(mode="json") for month, m in sorted(state.monthly.items())},
    }
    if state.costs is not None and plan is not None:
        document["cost_layout"] = cost_layout(topology, plan)
        document["costs"] = encode_costs(state.costs)
    return orjson.dumps(document)


def encode_costs(costs: CostLedger) -> dict[str, Any]:
    """The cost ledger by name: rows are bands (then "unpriced"), columns priced flow keys."""
    return {
        "amount": _tables(costs.amount),
        "yuan": _tables(costs.yuan),
        "demand": {str(start): table.tolist() for start, table in sorted(costs.demand.items())},
    }


def _tables(tables: dict[Granularity, dict[int, Any]]) -> dict[str, Any]:
    return {
        granularity.value: {str(start): rows.tolist() for start, rows in sorted(table.items())}
        for granularity, table in tables.items()
    }


def decode(
    data: bytes, park_id: str, topology: Topology, plan: CostPlan | None = None
) -> LiveState:
    """A live state for ``topology`` from checkpoint bytes; raises CheckpointError."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CheckpointError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"not a {FORMAT} document")
    if document.get("park") != park_id:
        raise CheckpointError(f"checkpoint of park {document.get('park')!r}, not {park_id!r}")
    state = LiveState.empty(topology)
    if document["watermark_ms"] is not None:
        state.watermark_ms = int(document["watermark_ms"])
    state.stats = IngestStats(**document["stats"])
    channel_index = {key: i for i, key in enumerate(topology.channel_keys)}
    channels = document["channels"]
    # A checkpoint written before high-water marks were kept: the last value is the mark.
    marks = channels.get("mark", channels["value"])
    for key, ts, value, mark in zip(
        channels["keys"], channels["ts_ms"], channels["value"], marks, strict=True
    ):
        if key in channel_index:
            state.last_ts[channel_index[key]] = ts
            state.last_value[channel_index[key]] = value
            state.counters.mark[channel_index[key]] = mark
    counters = document.get("counters", {})
    book = state.counters
    for key, drop in counters.get("drops", {}).items():
        if key in channel_index:
            book.drops[channel_index[key]] = Drop(**drop)
    for key, queue in counters.get("queued", {}).items():
        if key in channel_index:
            book.queued[channel_index[key]] = [Replacement(**r) for r in queue]
    book.applied = set(counters.get("applied", []))
    book.events = [CounterEvent(**e) for e in counters.get("events", [])]
    devices = document["devices"]
    offline = devices.get("offline_ms", [None] * len(devices["ids"]))
    for device, seen, resets, gone in zip(
        devices["ids"], devices["last_seen_ms"], devices["resets"], offline, strict=True
    ):
        index = topology.device_index.get(device)
        if index is not None:
            state.last_seen_ms[index] = NEVER if seen is None else seen
            state.resets[index] = resets
            state.offline_ms[index] = NEVER if gone is None else gone
    flow_index = {key: i for i, key in enumerate(topology.flow_keys)}
    positions = [
        (old, flow_index[key]) for old, key in enumerate(document["flows"]) if key in flow_index
    ]
    old = np.asarray([p[0] for p in positions], dtype=np.int64)
    new = np.asarray([p[1] for p in positions], dtype=np.int64)
    for name, table in document["ledger"].items():
        for start, values in table.items():
            row = np.zeros(len(topology.flow_keys))
            row[new] = np.asarray(values, dtype=np.float64)[old]
            state.ledger.periods[Granularity(name)][int(start)] = row
    state.monthly = {
        month: MonthlyInputs.model_validate(item) for month, item in document["monthly"].items()
    }
    if plan is not None:
        state.costs = plan.empty()
        if "costs" in document and document.get("cost_layout") == cost_layout(topology, plan):
            decode_costs(document["costs"], state.costs)
    return state


def cost_layout(topology: Topology, plan: CostPlan) -> dict[str, Any]:
    """What the cost ledger's rows and columns are: a checkpoint whose layout differs (a band
    or a priced meter added or removed) starts its costs empty rather than misfiled."""
    return {
        "bands": plan.timeline.band_names,
        "priced": [topology.flow_keys[f] for f in plan.priced_flows.tolist()],
        "mains": plan.main_ids,
    }


def decode_costs(document: dict[str, Any], costs: CostLedger) -> None:
    for name, target in (("amount", costs.amount), ("yuan", costs.yuan)):
        for granularity, table in document[name].items():
            for start, rows in table.items():
                target[Granularity(granularity)][int(start)] = np.asarray(rows, dtype=np.float64)
    for start, table in document["demand"].items():
        costs.demand[int(start)] = np.asarray(table, dtype=np.float64).reshape(-1, costs.mains)
