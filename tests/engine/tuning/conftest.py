from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from engine.tuning import CategoricalRange, ContinuousRange, IntegerRange, Tuner


@pytest.fixture
def toy_ranges() -> list[Any]:
    return [ContinuousRange("x", -5, 5), ContinuousRange("lr", 1e-4, 1, "log"), IntegerRange("depth", 1, 10),
            CategoricalRange("kind", ("a", "b", "c"))]


def toy_loss(params: dict[str, Any]) -> float:
    """A bowl with its bottom at x=1.3, lr=10^-2.5, depth=7, kind=b (loss 0)."""
    return ((params["x"] - 1.3) ** 2 + (math.log10(params["lr"]) + 2.5) ** 2 + 0.1 * (params["depth"] - 7) ** 2
            + (0 if params["kind"] == "b" else 1))


def run(tuner: Tuner, batch: int = 1, objective: Callable[[dict[str, Any]], float] | None = None) -> Tuner:
    """Drive a tuner to the end on the toy objective, `batch` trials at a time."""
    while not tuner.done():
        proposals = tuner.ask(batch)
        assert proposals, "a tuner that is not done must propose when nothing is running"
        for proposal in proposals:
            tuner.tell(proposal.number, (objective or toy_loss)(proposal.params))
    return tuner
