"""How many processes a load needs."""

from __future__ import annotations

import pytest

from engine.serving.autoscaling import ScalingPolicy, desired_processes, invocations_per_minute

POLICY = ScalingPolicy(minimum=1, maximum=8, target_invocations_per_process=600)


@pytest.mark.parametrize(("rate", "current", "expected"), [
    (0, 1, 1),  # never below the minimum
    (600, 1, 1),  # exactly on target
    (601, 1, 2),  # just over: one more
    (3000, 2, 5),  # scale out at once to what the load needs
    (100_000, 4, 8),  # never above the maximum
    (1000, 4, 3),  # scale in while 3 processes stay under 75% of the target (444/min each)
    (1300, 4, 3),  # 1300/3 = 433 ≤ 450: scale in to 3
    (1400, 4, 4),  # 1400/3 = 467 > 450: stay, though 3 would be under the target
    (0, 4, 1),
    (4000, 20, 8),  # a current count above the maximum is brought down to it
])
def test_desired_processes(rate, current, expected) -> None:
    assert desired_processes(POLICY, invocations_per_minute=rate, current=current) == expected


def test_serverless_can_scale_to_zero_and_back() -> None:
    policy = ScalingPolicy(minimum=0, maximum=2, target_invocations_per_process=60)
    assert desired_processes(policy, invocations_per_minute=0, current=1) == 0
    assert desired_processes(policy, invocations_per_minute=1, current=0) == 1


def test_the_rate_comes_from_two_counter_readings() -> None:
    assert invocations_per_minute(100, 10.0, 400, 40.0) == 600
    assert invocations_per_minute(900, 10.0, 30, 40.0) == 60  # the counter restarted with the server
    with pytest.raises(ValueError):
        invocations_per_minute(0, 5.0, 10, 5.0)


@pytest.mark.parametrize("kwargs", [{"minimum": 3, "maximum": 2}, {"maximum": 0}, {"target_invocations_per_process": 0},
                                    {"scale_in_ratio": 0}, {"minimum": -1}])
def test_a_policy_that_cannot_work_is_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        ScalingPolicy(**kwargs)


def test_a_negative_or_infinite_rate_is_refused() -> None:
    for rate in (-1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            desired_processes(POLICY, invocations_per_minute=rate, current=1)
