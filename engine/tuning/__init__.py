"""Automatic model tuning: hyperparameter ranges, search strategies (random, grid, Bayesian TPE, Hyperband)
behind one ask/tell tuner whose state is JSON, the median stopping rule, and the data of the tuning charts.
The tuner proposes and decides; the studio runs each trial as its own training job."""

from .analysis import objective_over_trials, parallel_coordinates, parameter_importance
from .errors import TuningError
from .ranges import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    Range,
    check_ranges,
    default_ranges,
    parse_ranges,
    ranges_to_json,
    ranges_to_sagemaker,
)
from .resources import Resource, resource_for, rows_for_trial
from .strategies import STRATEGIES, strategy, strategy_list
from .tuner import Trial, TrialProposal, Tuner

__all__ = ["STRATEGIES", "CategoricalRange", "ContinuousRange", "IntegerRange", "Range", "Resource", "Trial",
           "TrialProposal", "Tuner", "TuningError", "check_ranges", "default_ranges", "objective_over_trials",
           "parallel_coordinates", "parameter_importance", "parse_ranges", "ranges_to_json", "ranges_to_sagemaker",
           "resource_for", "rows_for_trial", "strategy", "strategy_list"]
