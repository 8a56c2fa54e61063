"""The AutoML form, Canvas style: dataset, target, the problem type inferred from the target, a budget; and an
"Advanced (Autopilot)" part for data scientists: algorithms, metric, trials, folds and the evaluation share."""

from __future__ import annotations

from typing import Any

from django import forms

from engine.automl import DEFAULT_ALGORITHMS
from engine.training import ALGORITHMS, METRICS

from .models import Budget, ProblemType
from .services import MAX_BUDGET_SECONDS, MAX_FOLDS, MIN_BUDGET_SECONDS

ADVANCED = ("algorithms", "metric", "max_trials", "folds", "test_share", "name", "experiment", "flow_run")


class AutoMLForm(forms.Form):
    dataset = forms.ChoiceField()
    version = forms.ChoiceField(required=False, help_text="Empty: the current version.")
    target = forms.ChoiceField(label="Column to predict")
    problem_type = forms.ChoiceField(choices=ProblemType.choices, required=False,
                                     help_text="Inferred from the target's values unless you choose.")
    budget = forms.ChoiceField(choices=Budget.choices, initial=Budget.QUICK, widget=forms.RadioSelect,
                               label="Build")
    budget_seconds = forms.IntegerField(required=False, min_value=MIN_BUDGET_SECONDS, max_value=MAX_BUDGET_SECONDS,
                                        label="Custom budget (seconds)",
                                        help_text=f"For a custom build: {MIN_BUDGET_SECONDS} seconds to 24 hours.")
    algorithms = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Algorithms",
        choices=[(name, ALGORITHMS[name].label) for name in DEFAULT_ALGORITHMS if name in ALGORITHMS],
        help_text="None ticked: all that solve the problem.")
    metric = forms.ChoiceField(required=False, help_text="Empty: the problem type's default (balanced accuracy, "
                                                         "ROC AUC or RMSE).",
                               choices=[("", "Default for the problem type")] + [
                                   (name, entry.label) for name, entry in METRICS.items()
                                   if set(entry.problem_types) & {"binary", "multiclass", "regression"}])
    max_trials = forms.IntegerField(required=False, min_value=1, label="Max trials",
                                    help_text="Empty: as many as the budget allows.")
    folds = forms.IntegerField(initial=5, min_value=2, max_value=MAX_FOLDS,
                               help_text="Cross-validation folds on tables up to 5,000 rows (a holdout above).")
    test_share = forms.FloatField(initial=0.2, min_value=0, max_value=0.5, label="Evaluation share",
                                  help_text="Rows kept aside to evaluate the best model; 0 keeps none.")
    flow_run = forms.ChoiceField(required=False, label="Fitted flow",
                                 help_text="Optional: an applied flow whose fitted steps the model carries.")
    name = forms.CharField(required=False, max_length=120)
    experiment = forms.CharField(required=False, max_length=120,
                                 help_text="The experiment its runs are recorded in; empty: the dataset's name.")

    def __init__(self, *args: Any, datasets: list[tuple[str, str]], versions: list[int], columns: list[str],
                 flow_runs: list[tuple[str, str]], refresh_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if refresh_url:
            # The dataset, version and target decide the columns and the inferred problem type: ask again (htmx).
            for name in ("dataset", "version", "target"):
                self.fields[name].widget.attrs.update({
                    "hx-get": refresh_url, "hx-trigger": "change", "hx-include": "#automl-form",
                    "hx-target": "#automl-fields", "hx-select": "#automl-fields", "hx-swap": "outerHTML"})
        self.fields["dataset"].choices = datasets
        self.fields["version"].choices = [("", "Current")] + [(str(number), f"v{number}") for number in versions]
        self.fields["target"].choices = [("", "Choose a column")] + [(name, name) for name in columns]
        self.fields["flow_run"].choices = [("", "None")] + flow_runs

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("dataset", "version", "target", "problem_type")]

    def advanced_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADVANCED]
