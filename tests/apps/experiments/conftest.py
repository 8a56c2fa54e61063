from __future__ import annotations

import pytest


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def experiment(project, owner):
    from apps.experiments.services import experiment_get_or_create

    return experiment_get_or_create(project=project, name="churn", user=owner)


@pytest.fixture
def make_run(experiment, owner):
    """A run with params, tags and metrics logged through the services."""
    from apps.experiments.services import run_log_batch, run_start

    def make(name: str = "", params=None, metrics=None, tags=None, **extra):
        run = run_start(experiment=extra.pop("in_experiment", experiment), user=owner, name=name, params=params,
                        tags=tags, **extra)
        if metrics:
            run_log_batch(run=run, metrics=[{"key": key, "value": value} for key, value in metrics.items()])
        return run

    return make


@pytest.fixture
def runs(make_run):
    """Four runs of one experiment, as a search would see them."""
    return {
        "deep": make_run("deep", {"max_depth": 6, "algorithm": "xgboost", "lr": "0.1"}, {"auc": 0.95, "rmse": 3.0},
                         {"team": "vision"}),
        "shallow": make_run("shallow", {"max_depth": "2", "algorithm": "xgboost", "lr": "0.3"}, {"auc": 0.80},
                            {"team": "vision"}),
        "forest": make_run("forest", {"max_depth": "6", "algorithm": "random forest"}, {"auc": 0.91, "rmse": 4.0},
                           {"team": "tabular"}),
        "auto": make_run("auto", {"max_depth": "auto", "algorithm": "lightgbm"}, {}, {}),
    }
