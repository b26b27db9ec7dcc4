"""Small statistics shared by the bench scripts."""

from __future__ import annotations


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (unsorted is fine); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]
