"""Run search over the database: MLflow filters, numbers compared as numbers, missing keys never match,
sorts with missing values last."""

from __future__ import annotations

import pytest

from apps.core.errors import UserError
from apps.experiments.selectors import run_list, run_search


def names(owner, experiment, filter_text="", order_by=""):
    runs = run_search(run_list(user=owner, experiment=experiment), filter_text=filter_text, order_by=order_by)
    return [run.name for run in runs]


@pytest.mark.parametrize("filter_text, expected", [
    ("metrics.auc > 0.9", {"deep", "forest"}),
    ("metrics.auc > 0.9 and params.max_depth = 6", {"deep", "forest"}),
    ("params.max_depth = '6'", {"deep", "forest"}),
    ("params.max_depth >= 3", {"deep", "forest"}),
    ("params.max_depth != 6", {"shallow", "auto"}),
    ("params.max_depth = 'auto'", {"auto"}),
    ("params.algorithm != 'xgboost'", {"forest", "auto"}),
    ("params.algorithm LIKE 'xg%'", {"deep", "shallow"}),
    ("params.algorithm LIKE 'XG%'", set()),
    ("params.algorithm ILIKE 'XG%'", {"deep", "shallow"}),
    ("params.algorithm = 'random forest'", {"forest"}),
    ("params.lr < 0.2", {"deep"}),
    ("tags.team = 'vision'", {"deep", "shallow"}),
    ("tags.team != 'vision'", {"forest"}),
    ("metrics.rmse <= 3.5", {"deep"}),
    ("metrics.rmse != 3", {"forest"}),
    ("attributes.status = 'RUNNING'", {"deep", "shallow", "forest", "auto"}),
    ("attributes.status = 'FINISHED'", set()),
    ("attributes.run_name LIKE '%est'", {"forest"}),
    ("metrics.unknown > 0", set()),
    ("params.unknown = 'x'", set()),
    ("", {"deep", "shallow", "forest", "auto"}),
])
def test_filters(owner, experiment, runs, filter_text, expected):
    assert set(names(owner, experiment, filter_text)) == expected


def test_sorting_by_metric_param_and_attribute_puts_missing_values_last(owner, experiment, runs):
    assert names(owner, experiment, order_by="metrics.auc DESC") == ["deep", "forest", "shallow", "auto"]
    assert names(owner, experiment, order_by="metrics.auc") == ["shallow", "forest", "deep", "auto"]
    assert names(owner, experiment, order_by="metrics.rmse DESC")[:2] == ["forest", "deep"]
    # Params sort by number (2 before 6; ties newest first), and text after numbers.
    assert names(owner, experiment, order_by="params.max_depth") == ["shallow", "forest", "deep", "auto"]
    assert names(owner, experiment, order_by="attributes.run_name") == ["auto", "deep", "forest", "shallow"]
    assert names(owner, experiment) == ["auto", "forest", "shallow", "deep"]  # newest first


def test_a_filter_that_cannot_be_read_is_a_user_error_naming_the_position(owner, experiment, runs):
    with pytest.raises(UserError) as caught:
        names(owner, experiment, "metrics.auc >> 1")
    assert caught.value.field == "filter" and "position 14" in caught.value.message
    with pytest.raises(UserError) as caught:
        names(owner, experiment, order_by="auc")
    assert caught.value.field == "order_by"


def test_deleted_runs_leave_the_list_and_labelers_see_none(owner, experiment, runs, labeler):
    from apps.experiments.services import run_delete

    run_delete(run=runs["auto"], user=owner)
    assert "auto" not in names(owner, experiment)
    assert [run.name for run in run_list(user=owner, experiment=experiment, deleted=True)] == ["auto"]
    assert not run_list(user=labeler).exists()
