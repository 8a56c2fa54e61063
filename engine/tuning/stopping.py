"""The median stopping rule (Golovin et al., Google Vizier, 2017), which SageMaker's "Auto" early stopping
follows: stop a trial whose best objective so far is worse than the median of the completed trials' running
averages at the same step. Values here are losses: lower is better."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

Curve = Sequence[tuple[float, float]]  # (step, loss) in the order reported

MIN_COMPLETED_TRIALS = 5  # no verdict until this many trials have finished with a curve
WARMUP_REPORTS = 1  # the first reports of a trial are never judged: early curves are noisy


def running_average(curve: Curve, step: float) -> float | None:
    """The mean of a curve's values up to and including `step`, or None when it has none there."""
    values = [loss for at, loss in curve if at <= step]
    return sum(values) / len(values) if values else None


def median_rule_stops(curve: Curve, completed: Sequence[Curve], min_completed: int = MIN_COMPLETED_TRIALS,
                      warmup_reports: int = WARMUP_REPORTS) -> bool:
    """True when the trial with `curve` should stop, given the curves of completed trials."""
    if len(curve) <= warmup_reports:
        return False
    step = curve[-1][0]
    averages = [average for other in completed if (average := running_average(other, step)) is not None]
    if len(averages) < min_completed:
        return False
    best = min(loss for at, loss in curve if at <= step)
    return best > statistics.median(averages)
