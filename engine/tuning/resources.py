"""The resource Hyperband spends: what makes a trial cheaper or dearer for a given algorithm. Boosting rounds,
trees or epochs when the algorithm has them; otherwise the share of training rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import TuningError

ROW_FRACTION = "row_fraction"


@dataclass(frozen=True)
class Resource:
    """`name` is a hyperparameter of the algorithm (whole numbers between minimum and maximum) or
    "row_fraction" (the share of the dataset's rows a trial trains and validates on)."""

    name: str
    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if not self.name:
            raise TuningError("Hyperband needs the name of the resource it spends.", "resource")
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)) or not 0 < self.minimum < self.maximum:
            raise TuningError(f"Hyperband's resource {self.name} needs 0 < minimum < maximum; got "
                              f"{self.minimum:g} and {self.maximum:g}.", "resource")
        if self.name == ROW_FRACTION and self.maximum > 1:
            raise TuningError("The row fraction Hyperband spends can be at most 1 (every row).", "resource")

    @property
    def whole(self) -> bool:
        return self.name != ROW_FRACTION

    def amount(self, value: float) -> float | int:
        """A resource amount as a trial receives it: a whole number of rounds/epochs, or a fraction."""
        if self.whole:
            return int(min(self.maximum, max(self.minimum, round(value))))
        return float(min(self.maximum, max(self.minimum, value)))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "min": self.minimum, "max": self.maximum}

    @classmethod
    def from_json(cls, data: Any) -> Resource:
        if isinstance(data, Resource):
            return data
        if not isinstance(data, dict) or "name" not in data:
            raise TuningError("Hyperband's resource must be an object with a name, min and max.", "resource")
        try:
            return cls(str(data["name"]), float(data.get("min", 0)), float(data.get("max", 0)))
        except (TypeError, ValueError):
            raise TuningError("Hyperband's resource min and max must be numbers.", "resource") from None


# Iterative algorithms: Hyperband gives weak configurations few rounds and strong ones many. The minimum is
# the maximum over 3^3, so the default eta of 3 gives four rungs (e.g. 10, 30, 90 and 270 rounds).
RESOURCES: dict[str, Resource] = {
    "xgboost": Resource("n_estimators", 10, 270),
    "random_forest": Resource("n_estimators", 10, 270),
    "extra_trees": Resource("n_estimators", 10, 270),
    "hist_gradient_boosting": Resource("max_iter", 10, 270),
    "mlp": Resource("epochs", 3, 81),
}
DEFAULT_RESOURCE = Resource(ROW_FRACTION, 1 / 9, 1.0)


def resource_for(algorithm: str | None) -> Resource:
    """The resource Hyperband spends on this algorithm: its rounds, trees or epochs, else a row fraction."""
    return RESOURCES.get(algorithm or "", DEFAULT_RESOURCE)


def rows_for_trial(frame: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """The rows a trial with a row-fraction resource trains and validates on: a random share of the dataset
    (the same rows for the same fraction and seed, so a promoted configuration sees a superset)."""
    if fraction >= 1:
        return frame
    order = pd.Series(range(len(frame))).sample(frac=1.0, random_state=seed).to_numpy()
    keep = max(1, int(round(len(frame) * fraction)))
    return frame.iloc[sorted(order[:keep])]
