"""How many server processes an endpoint needs: target tracking on invocations per process per minute, as
SageMaker's `SageMakerVariantInvocationsPerInstance` policy does, between a minimum and a maximum.

Scaling out follows the load at once; scaling in waits until the remaining processes would run well below the
target (`scale_in_ratio`), so a load that hovers near a boundary does not add and retire a process each minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ScalingPolicy:
    minimum: int = 1
    maximum: int = 1
    target_invocations_per_process: float = 1000.0  # per minute
    scale_in_ratio: float = 0.75

    def __post_init__(self) -> None:
        if self.minimum < 0 or self.maximum < max(1, self.minimum):
            raise ValueError("Processes need 0 ≤ minimum ≤ maximum and a maximum of at least 1.")
        if not self.target_invocations_per_process > 0:
            raise ValueError("The target invocations per process must be above 0.")
        if not 0 < self.scale_in_ratio <= 1:
            raise ValueError("The scale-in ratio must be above 0 and at most 1.")


def invocations_per_minute(count_before: int, seconds_before: float, count_now: int, seconds_now: float) -> float:
    """The invocation rate between two readings of an endpoint's invocation counter. A counter that went down
    (the server restarted) counts from zero."""
    elapsed = seconds_now - seconds_before
    if elapsed <= 0:
        raise ValueError("The second reading must come after the first.")
    done = count_now - count_before if count_now >= count_before else count_now
    return done * 60.0 / elapsed


def desired_processes(policy: ScalingPolicy, *, invocations_per_minute: float, current: int) -> int:
    """The number of processes to run for this load, given `current` running now."""
    if invocations_per_minute < 0 or not math.isfinite(invocations_per_minute):
        raise ValueError("The invocation rate must be a finite number ≥ 0.")
    current = min(max(current, policy.minimum), policy.maximum)
    target = policy.target_invocations_per_process
    needed = math.ceil(invocations_per_minute / target)
    if needed >= current:
        return min(max(needed, policy.minimum), policy.maximum)
    # Scale in only as far as leaves each remaining process at most `scale_in_ratio` of the target.
    relaxed = math.ceil(invocations_per_minute / (target * policy.scale_in_ratio))
    return min(max(relaxed, needed, policy.minimum), current)
