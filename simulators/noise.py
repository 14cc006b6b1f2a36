"""Counter-based randomness: a value for (key, n) with no state to carry or save.

Every random draw of the simulator is ``uniform(key, n)`` for a key made from the seed and a
device id (``stable_key``) and a counter (step or reading number). Restarting from a state file,
or skipping ahead, gives the same draws; Python's ``hash()`` is salted and is never used.
"""

from __future__ import annotations

import hashlib
import math

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_STRIDE = 0xD1B54A32D192ED03
_TO_UNIT = 1.0 / 2**64


def stable_key(seed: int, *parts: str) -> int:
    """A 64-bit key from the seed and names, identical on every machine and run."""
    text = "\x1f".join((str(seed), *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def mix64(x: int) -> int:
    """splitmix64's finaliser: a 64-bit bijection that scrambles every input bit."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def uniform(key: int, n: int) -> float:
    """A uniform draw in [0, 1) for draw number ``n`` of stream ``key``."""
    return mix64(key ^ ((n * _STRIDE) & _MASK)) * _TO_UNIT


def normal(key: int, n: int) -> float:
    """A standard normal draw (Box-Muller on two uniforms of the same counter)."""
    u1 = uniform(key, 2 * n) or _TO_UNIT
    u2 = uniform(key, 2 * n + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
