"""Presets: mappings for common firmwares and gateways, one YAML file each in ``presets/``.

A park file's mapping that names a preset takes every field it leaves out from it; its
``values`` are laid over the preset's, quantity by quantity (``null`` drops one).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from parktwin.park.mappings import Mapping


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    folder = resources.files(__package__) / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_preset(name: str) -> Mapping:
    """A bundled preset, validated by the park file's own schema; KeyError if there is none."""
    if name not in preset_names():
        raise KeyError(name)
    text = (resources.files(__package__) / "presets" / f"{name}.yaml").read_text("utf-8")
    return Mapping.model_validate(yaml.safe_load(text))


def with_preset(mapping: Mapping) -> Mapping:
    """The mapping with its preset's fields filled in (itself when it names none)."""
    if mapping.preset is None:
        return mapping
    preset = load_preset(mapping.preset)
    fields = {k: getattr(preset, k) for k in preset.model_fields_set}
    given = {k: getattr(mapping, k) for k in mapping.model_fields_set}
    values = {**(preset.values or {}), **(mapping.values or {})}
    merged = {**fields, **given, "values": {k: v for k, v in values.items() if v is not None}}
    return Mapping.model_construct(_fields_set=set(merged), **merged)
