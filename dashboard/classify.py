"""Class breaks for choropleth maps: quantiles, natural breaks (Jenks) and equal intervals.

Every method returns the upper bounds of the classes, ascending, the last being the maximum; a value v
belongs to the first class whose bound is >= v. Fewer classes come back than asked for when the data has
fewer distinct values (a legend with empty or duplicated classes misleads the reader).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

METHODS = ("quantiles", "jenks", "equal")


def _clean(values: Iterable[float | None]) -> list[float]:
    """The finite values, sorted (None and NaN are communes without data: they get no class)."""
    return sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))


def equal_intervals(values: Iterable[float | None], k: int) -> list[float]:
    """k classes of the same width between the minimum and the maximum."""
    data = _clean(values)
    if not data:
        return []
    lo, hi = data[0], data[-1]
    if lo == hi:
        return [hi]
    width = (hi - lo) / k
    return [lo + width * i for i in range(1, k)] + [hi]


def quantiles(values: Iterable[float | None], k: int) -> list[float]:
    """k classes holding about the same number of values (bounds are data values; duplicates merged)."""
    data = _clean(values)
    if not data:
        return []
    n = len(data)
    bounds: list[float] = []
    for i in range(1, k + 1):
        # The value at the i/k-th position; the last class always ends at the maximum.
        bound = data[min(n - 1, math.ceil(i * n / k) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    if bounds[-1] != data[-1]:
        bounds.append(data[-1])
    return bounds


def jenks(values: Iterable[float | None], k: int) -> list[float]:
    """Natural breaks (Fisher–Jenks): the k classes minimising the within-class sum of squared deviations.

    Exact dynamic programme, O(k·n²); communes number tens, so this is instant.
    """
    data = _clean(values)
    n = len(data)
    if n == 0:
        return []
    distinct = len(set(data))
    k = max(1, min(k, distinct))
    if k == 1:
        return [data[-1]]
    # Prefix sums give the sum of squared deviations of any slice in O(1).
    s1 = [0.0] * (n + 1)
    s2 = [0.0] * (n + 1)
    for i, v in enumerate(data):
        s1[i + 1] = s1[i] + v
        s2[i + 1] = s2[i] + v * v

    def ssd(i: int, j: int) -> float:  # values data[i:j]
        m = j - i
        total = s1[j] - s1[i]
        return s2[j] - s2[i] - total * total / m

    inf = float("inf")
    # cost[c][j]: best cost of splitting data[:j] into c classes; cut[c][j]: start of the last class.
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                if cost[c - 1][i] == inf:
                    continue
                candidate = cost[c - 1][i] + ssd(i, j)
                if candidate < cost[c][j]:
                    cost[c][j], cut[c][j] = candidate, i
    bounds: list[float] = []
    j = n
    for c in range(k, 0, -1):
        bounds.append(data[j - 1])
        j = cut[c][j]
    bounds.reverse()
    # Identical values split across classes would give equal bounds: merge them.
    merged: list[float] = []
    for b in bounds:
        if not merged or b > merged[-1]:
            merged.append(b)
    return merged


_METHODS: dict[str, Callable[[Iterable[float | None], int], list[float]]] = {
    "quantiles": quantiles,
    "jenks": jenks,
    "equal": equal_intervals,
}


def breaks(values: Iterable[float | None], method: str = "quantiles", k: int = 5) -> list[float]:
    """Upper bounds of the classes by the named method; ValueError for an unknown method or k < 1."""
    if method not in _METHODS:
        raise ValueError(f"unknown classification {method!r}; use one of {', '.join(METHODS)}")
    if k < 1:
        raise ValueError("the number of classes must be at least 1")
    return _METHODS[method](values, k)


def class_of(value: float | None, bounds: list[float]) -> int | None:
    """Index of the class the value falls in (None when there is no value)."""
    if value is None or not bounds or not math.isfinite(value):
        return None
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds) - 1


# Colour-blind-safe sequential schemes (viridis and cividis, sampled at 7 points, light to dark order so
# that higher values read darker on a light basemap).
SCHEMES = {
    "viridis": ["#fde725", "#90d743", "#35b779", "#21918c", "#31688e", "#443983", "#440154"],
    "cividis": ["#fee838", "#d3c164", "#a59c74", "#7c7b78", "#575d6d", "#31446b", "#00224e"],
}


def colours(n: int, scheme: str = "viridis") -> list[str]:
    """n colours spread over the scheme (n <= 7)."""
    ramp = SCHEMES.get(scheme, SCHEMES["viridis"])
    if n <= 0:
        return []
    if n == 1:
        return [ramp[len(ramp) // 2]]
    return [ramp[round(i * (len(ramp) - 1) / (n - 1))] for i in range(n)]
