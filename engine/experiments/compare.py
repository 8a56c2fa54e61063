"""Side-by-side comparison of runs: which keys differ between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def differing_keys(rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Keys whose value is not the same in every row; a key missing from some rows differs."""
    keys = set().union(*(row.keys() for row in rows)) if rows else set()
    differing = set()
    for key in keys:
        values = [row.get(key, _MISSING) for row in rows]
        if any(value != values[0] for value in values[1:]):
            differing.add(key)
    return differing


_MISSING = object()
