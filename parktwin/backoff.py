"""Retry delays: exponential backoff with full jitter."""

from __future__ import annotations

import random


def backoff_s(attempt: int, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before retry ``attempt`` (0-based): uniform in [0, min(max, initial * 2^attempt)].

    Full jitter spreads the retries of many clients (AWS Architecture Blog, "Exponential
    Backoff And Jitter").
    """
    return rng.uniform(0, min(max_s, initial_s * 2 ** min(attempt, 30)))
