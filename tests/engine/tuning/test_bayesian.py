"""Bayesian search: it learns from results (it beats random search) and from earlier jobs (warm start)."""

from __future__ import annotations

import math

from engine.tuning import ContinuousRange, Tuner

from .conftest import run

SEEDS = 12
TRIALS = 30


def _bowl(params: dict) -> float:
    """Lowest (0) at x=1.3, y=-2 and a learning rate of 10^-2.5."""
    return (params["x"] - 1.3) ** 2 + (params["y"] + 2) ** 2 + (math.log10(params["lr"]) + 2.5) ** 2


def test_tpe_beats_random_search_on_most_seeds() -> None:
    # Each seed is a race on the same budget. Were TPE no better than random, winning 10 or more of 12 races
    # would happen with probability 1.9% (binomial, p = 0.5), so this cannot pass by luck often.
    ranges = [ContinuousRange("x", -5, 5), ContinuousRange("lr", 1e-4, 1, "log"), ContinuousRange("y", -5, 5)]
    best: dict[str, list[float]] = {"bayesian": [], "random": []}
    for seed in range(SEEDS):
        for strategy, results in best.items():
            tuner = run(Tuner(strategy, ranges, "loss", "minimize", max_trials=TRIALS, seed=seed), objective=_bowl)
            assert tuner.best() is not None
            results.append(tuner.best().value)
    wins = sum(tpe < rand for tpe, rand in zip(best["bayesian"], best["random"], strict=True))
    assert wins >= 10, best
    assert sorted(best["bayesian"])[SEEDS // 2] < 0.5 * sorted(best["random"])[SEEDS // 2]


def test_parallel_proposals_spread_out_rather_than_repeat() -> None:
    tuner = Tuner("bayesian", [ContinuousRange("x", 0, 1)], "loss", "minimize", max_trials=30, max_parallel=4,
                  seed=0, options={"startup_trials": 3})
    for proposal in tuner.ask(4):
        tuner.tell(proposal.number, (proposal.params["x"] - 0.3) ** 2)
    batch = [proposal.params["x"] for proposal in tuner.ask(4)]
    assert len({round(x, 6) for x in batch}) == 4


def test_warm_start_trials_steer_the_first_proposals() -> None:
    ranges = [ContinuousRange("x", -10, 10), ContinuousRange("y", -10, 10)]
    earlier = [{"params": {"x": x, "y": y}, "value": (x - 6) ** 2 + (y + 6) ** 2}
               for x in range(-9, 10, 3) for y in range(-9, 10, 3)]
    earlier.append({"params": {"x": 99.0, "y": 0.0}, "value": 1.0})  # outside these ranges: not used

    def distance(tuner: Tuner) -> float:
        proposals = tuner.ask(5)
        return sum(math.dist((p.params["x"], p.params["y"]), (6, -6)) for p in proposals) / len(proposals)

    cold = Tuner("bayesian", ranges, "loss", "minimize", max_trials=20, max_parallel=5, seed=1)
    warm = Tuner("bayesian", ranges, "loss", "minimize", max_trials=20, max_parallel=5, seed=1, warm_start=earlier)
    assert distance(warm) < 4 < distance(cold)
    assert warm.warnings == ["1 warm-start trials lie outside these ranges and were not used."]


def test_warm_start_points_are_not_proposed_again_by_random_or_grid() -> None:
    ranges = {"depth": {"min": 1, "max": 3}, "kind": ["a", "b"]}
    earlier = [({"depth": 1, "kind": "a"}, 0.5), ({"depth": 2, "kind": "b"}, 0.4), ({"depth": 9, "kind": "a"}, 0.1)]
    for strategy, max_trials in (("random", 10), ("grid", None)):
        tuner = run(Tuner(strategy, ranges, "loss", "minimize", max_trials, warm_start=earlier),
                    objective=lambda params: 0.0)
        tried = {(trial.params["depth"], trial.params["kind"]) for trial in tuner.trials}
        assert tried == {(1, "b"), (2, "a"), (3, "a"), (3, "b")}, strategy
