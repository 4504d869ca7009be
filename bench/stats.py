"""Percentiles and summaries, nearest-rank, so every figure is a latency that really happened."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]


def summarize_ms(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p95, p99, max, min, mean of millisecond values (rounded to 0.1 ms)."""
    if not values_ms:
        return {
            "n": 0,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "max_ms": None,
            "min_ms": None,
            "mean_ms": None,
        }
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 1),
        "p95_ms": round(percentile(values_ms, 95), 1),
        "p99_ms": round(percentile(values_ms, 99), 1),
        "max_ms": round(max(values_ms), 1),
        "min_ms": round(min(values_ms), 1),
        "mean_ms": round(statistics.fmean(values_ms), 1),
    }


def ratio(a: float | int | None, b: float | int | None) -> float | None:
    """a / b rounded to 2 places, None if either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return round(float(a) / float(b), 2)
