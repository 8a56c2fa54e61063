"""The median stopping rule behind early_stopping="auto"."""

from __future__ import annotations

import pytest

from engine.tuning import ContinuousRange, Tuner, TuningError
from engine.tuning.stopping import median_rule_stops

GOOD_CURVE = [(step, 0.9 - 0.5 / step) for step in range(1, 11)]  # accuracy rising to ~0.85


def _tuner_with_completed_curves(completed: int = 5) -> Tuner:
    tuner = Tuner("random", [ContinuousRange("x", 0, 1)], "accuracy", max_trials=20, max_parallel=20,
                  early_stopping="auto")
    for proposal in tuner.ask(completed):
        offset = proposal.number * 0.01
        for step, value in GOOD_CURVE:
            assert tuner.report(proposal.number, step, value + offset) == "continue"
        tuner.tell(proposal.number, GOOD_CURVE[-1][1] + offset)
    return tuner


def test_a_clearly_bad_trial_is_stopped_and_ends_as_stopped() -> None:
    tuner = _tuner_with_completed_curves()
    (bad,) = tuner.ask()
    verdicts = [tuner.report(bad.number, step, 0.3) for step in range(1, 5)]
    assert verdicts == ["continue", "stop", "stop", "stop"]  # the first report is never judged
    tuner.tell(bad.number, None)
    trial = tuner.trials[bad.number]
    assert trial.status == "stopped" and trial.value == 0.3
    assert tuner.best() is not None and tuner.best().number == 4


def test_a_good_trial_runs_to_the_end() -> None:
    tuner = _tuner_with_completed_curves()
    (good,) = tuner.ask()
    assert all(tuner.report(good.number, step, value + 0.02) == "continue" for step, value in GOOD_CURVE)


def test_a_trial_is_judged_on_its_best_value_against_running_averages() -> None:
    # The completed trials average 0.5 up to step 2; a trial whose best so far is 0.55 goes on even though
    # its latest value is 0.4 (maximising, so the rule sees losses -0.55 against a median of -0.5).
    completed = [[(1, -0.4), (2, -0.6)]] * 5
    assert not median_rule_stops([(1, -0.55), (2, -0.4)], completed)
    assert median_rule_stops([(1, -0.45), (2, -0.4)], completed)


def test_nothing_is_stopped_before_enough_trials_have_completed() -> None:
    tuner = _tuner_with_completed_curves(completed=4)
    (bad,) = tuner.ask()
    assert {tuner.report(bad.number, step, 0.1) for step in range(1, 6)} == {"continue"}


def test_with_early_stopping_off_every_trial_continues() -> None:
    tuner = Tuner("random", [ContinuousRange("x", 0, 1)], "accuracy", max_trials=8, max_parallel=8)
    for proposal in tuner.ask(6):
        for step in range(1, 4):
            tuner.report(proposal.number, step, 0.9 if proposal.number < 5 else 0.1)
        if proposal.number < 5:
            tuner.tell(proposal.number, 0.9)
    assert tuner.report(5, 4, 0.1) == "continue"


def test_hyperband_refuses_median_stopping_of_its_own_trials() -> None:
    with pytest.raises(TuningError, match="Hyperband stops weak trials itself"):
        Tuner("hyperband", {"x": {"type": "continuous", "min": 0, "max": 1}}, "accuracy", early_stopping="auto",
              options={"resource": {"name": "row_fraction", "min": 0.1, "max": 1}})
