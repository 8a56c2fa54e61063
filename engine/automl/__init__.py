"""AutoML: Bayesian search over the registry's algorithms, hyperparameters and preprocessing within a time
budget (successive halving over training rows, resumable from the job's checkpoint), a greedy ensemble of the
best candidates, the code that rebuilds the best model in plain scikit-learn, and what-if explanations."""

from .codegen import generated_code
from .run import DEFAULT_ALGORITHMS, AutoMLResult, automl_run
from .whatif import what_if

__all__ = ["DEFAULT_ALGORITHMS", "AutoMLResult", "automl_run", "generated_code", "what_if"]
