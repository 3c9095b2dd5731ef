"""Histograms of milliseconds or tokens that add up across rollup rows: {bucket: count}.

A value below 64 is its own bucket; above, buckets grow by 2^(1/8) (about 9 %), so a percentile
read from one is within about 4.5 % of the exact one. The SQL expression and the Python functions
are the one definition of a bucket.
"""

import math
from collections.abc import Iterable, Mapping

EXACT_BELOW = 64
STEPS_PER_DOUBLING = 8


def bucket_sql(column: str) -> str:
    """The bucket of an integer `column` (NULL stays NULL), as a PostgreSQL expression."""
    return (
        f"(CASE WHEN {column} < {EXACT_BELOW} THEN {column} "
        f"ELSE {EXACT_BELOW} + floor({STEPS_PER_DOUBLING} * log(2.0, {column} / {EXACT_BELOW}.0))::int END)"
    )


def bucket_of(value: int) -> int:
    if value < EXACT_BELOW:
        return value
    return EXACT_BELOW + math.floor(STEPS_PER_DOUBLING * math.log2(value / EXACT_BELOW))


def bucket_value(bucket: int) -> int:
    """A bucket's representative value: the value itself below 64, else its geometric middle."""
    if bucket < EXACT_BELOW:
        return bucket
    return round(EXACT_BELOW * 2 ** ((bucket - EXACT_BELOW + 0.5) / STEPS_PER_DOUBLING))


def merge(histograms: Iterable[Mapping[str, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for histogram in histograms:
        for key, count in histogram.items():
            total[int(key)] = total.get(int(key), 0) + int(count)
    return total


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """The nearest-rank `q` quantile (0 < q <= 1) of the values counted, or None for none."""
    count = sum(histogram.values())
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return None  # unreachable: the ranks add up to count
