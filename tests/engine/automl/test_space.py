"""The search space comes from the algorithm registry's hyperparameter declarations."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from engine.automl.space import default_params, distributions, suggest
from engine.training import algorithm_get


def test_distributions_follow_the_declarations() -> None:
    xgboost = distributions(algorithm_get("xgboost"))
    assert xgboost["xgboost.learning_rate"] == FloatDistribution(0.005, 0.5, log=True)
    assert xgboost["xgboost.n_estimators"] == IntDistribution(20, 1000, log=True)
    assert "xgboost.early_stopping_rounds" not in xgboost  # not searchable
    forest = distributions(algorithm_get("random_forest"))
    assert forest["random_forest.max_depth.limited"] == CategoricalDistribution((False, True))
    assert forest["random_forest.max_features"] == CategoricalDistribution(("sqrt", "log2", "all"))
    assert "linear_learner.max_iter" not in distributions(algorithm_get("linear_learner"))
    assert "64,32" in distributions(algorithm_get("mlp"))["mlp.hidden_layers"].choices
    assert distributions(algorithm_get("svm"))["svm.kernel"].choices == ("rbf",)  # search_choices narrow choices


def test_defaults_are_inside_the_space_and_samples_are_valid() -> None:
    for name in ("xgboost", "random_forest", "hist_gradient_boosting", "linear_learner", "knn", "svm", "mlp"):
        algorithm = algorithm_get(name)
        params = default_params(algorithm)
        space = distributions(algorithm)
        assert set(params) - {"algorithm"} <= set(space)
        for key in set(space) - set(params):  # only the values of "no limit" defaults are left to the sampler
            assert params[f"{key}.limited"] is False
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        for _ in range(5):
            candidate = suggest(study.ask(), [name])
            for parameter in algorithm.hyperparameters:
                if parameter.name in candidate["hyperparameters"]:
                    value = candidate["hyperparameters"][parameter.name]
                    assert value is None and parameter.nullable or parameter.clean(value) == value


def test_a_search_start_replaces_the_library_default_as_the_first_candidate() -> None:
    xgboost = algorithm_get("xgboost")
    params = default_params(xgboost)
    assert xgboost.search_start == {"learning_rate": 0.1}
    assert params["xgboost.learning_rate"] == 0.1
    assert next(p for p in xgboost.hyperparameters if p.name == "learning_rate").default == 0.3  # the form's
    assert params["xgboost.n_estimators"] == 200  # the rest are the registry's defaults
