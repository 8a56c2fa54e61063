"""Training: the registry of built-in algorithms and metrics, feature preparation, training with holdout or
k-fold validation, checkpoints, and model bundles in safe formats."""

from .algorithms import ALGORITHMS, Algorithm, algorithm_get, algorithm_list
from .errors import TrainingError
from .metrics import METRICS, PROBLEM_TYPES, default_metric, metrics_for
from .model import ENSEMBLE, EnsembleEstimator, TrainedModel, bundle_bytes, bundle_load
from .train import TrainingResult, TrainingSpec, infer_problem_type, train

__all__ = ["ALGORITHMS", "ENSEMBLE", "METRICS", "PROBLEM_TYPES", "Algorithm", "EnsembleEstimator", "TrainedModel",
           "TrainingError", "TrainingResult", "TrainingSpec", "algorithm_get", "algorithm_list", "bundle_bytes", "bundle_load",
           "default_metric", "infer_problem_type", "metrics_for", "train"]
