"""The tuning form: the data choices of the training form (reused), then the search: algorithm, strategy,
objective, limits, early stopping, warm start, and a ranges editor with one row per searchable
hyperparameter, prefilled from engine.tuning.default_ranges, each with a toggle to include it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from apps.training.forms import HP_PREFIX, TrainingForm
from engine.training import METRICS
from engine.tuning import CategoricalRange, Range, default_ranges, strategy_list

from .models import EarlyStopping
from .services import objective_metrics

RANGE_PREFIX = "range_"
SCALES = [("linear", "linear"), ("log", "log")]


@dataclass
class RangeRow:
    name: str
    categorical: bool
    include: forms.BoundField
    low: forms.BoundField | None = None
    high: forms.BoundField | None = None
    scale: forms.BoundField | None = None
    values: forms.BoundField | None = None


def _metric_label(name: str) -> str:
    entry = METRICS.get(name)
    if entry is None:
        return name.replace("_", " ")
    return f"{entry.label} ({'higher' if entry.greater_is_better else 'lower'} is better)"


def _value(text: str) -> Any:
    """A categorical value as typed: true/false, a number, or text (the engine converts to the parameter's kind)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


class TuningForm(TrainingForm):
    strategy = forms.ChoiceField(choices=[(entry["name"], entry["label"]) for entry in strategy_list()],
                                 initial="bayesian")
    objective_metric = forms.ChoiceField(required=False, label="Objective metric",
                                         help_text="What the search optimises; empty: the problem type's default.")
    max_trials = forms.IntegerField(required=False, initial=10, min_value=1, max_value=500,
                                    help_text="Empty: every combination (grid) or one full pass (Hyperband).")
    max_parallel = forms.IntegerField(initial=2, min_value=1, max_value=50, label="Trials at a time",
                                      help_text="Each running trial takes a worker slot on the training queue.")
    early_stopping = forms.ChoiceField(choices=EarlyStopping.choices, initial=EarlyStopping.OFF,
                                       help_text="Auto stops a trial whose validation curve is worse than the "
                                                 "median of the completed trials at the same step.")
    warm_start_from = forms.ChoiceField(required=False, label="Warm start from",
                                        help_text="An earlier tuning job of the same algorithm and objective: its "
                                                  "trials count as history.")

    def __init__(self, *args: Any, warm_starts: list[tuple[str, str]], problem_type: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in [name for name in self.fields if name.startswith(HP_PREFIX)]:
            del self.fields[name]  # tuning searches ranges instead of taking one value
        for name in ("dataset", "version", "algorithm", "problem_type"):
            if "hx-get" in self.fields["dataset"].widget.attrs:
                self.fields[name].widget.attrs.update({
                    "hx-get": self.fields["dataset"].widget.attrs["hx-get"], "hx-trigger": "change",
                    "hx-include": "#tuning-form", "hx-target": "#tuning-fields", "hx-select": "#tuning-fields",
                    "hx-swap": "outerHTML"})
        self.fields["experiment"].help_text = "The experiment the trials' runs are recorded in; empty: one for " \
                                              "this tuning job."
        self.fields["name"].help_text = "Optional; a name is made from the algorithm and dataset."
        types = [problem_type] if problem_type else list(self.algorithm_spec.problem_types)
        names = list(dict.fromkeys(name for kind in types for name in objective_metrics(kind)))
        self.fields["objective_metric"].choices = [("", "Default for the problem type")] + [
            (name, _metric_label(name)) for name in names]
        self.fields["warm_start_from"].choices = [("", "None")] + warm_starts
        self.strategies = strategy_list()
        self.searched: list[Range] = default_ranges(self.algorithm_spec.name)
        for entry in self.searched:
            self._add_range_fields(entry)

    def _add_range_fields(self, entry: Range) -> None:
        prefix = f"{RANGE_PREFIX}{entry.name}_"
        self.fields[prefix + "on"] = forms.BooleanField(required=False, initial=True, label=f"Search {entry.name}")
        if isinstance(entry, CategoricalRange):
            self.fields[prefix + "values"] = forms.CharField(
                required=False, label=f"{entry.name} values", initial=", ".join(str(v) for v in entry.values),
                help_text="Comma-separated.")
            return
        step = 1 if entry.kind == "integer" else "any"
        self.fields[prefix + "min"] = forms.FloatField(required=False, initial=entry.min, label=f"{entry.name} min",
                                                       widget=forms.NumberInput(attrs={"step": step}))
        self.fields[prefix + "max"] = forms.FloatField(required=False, initial=entry.max, label=f"{entry.name} max",
                                                       widget=forms.NumberInput(attrs={"step": step}))
        self.fields[prefix + "scale"] = forms.ChoiceField(choices=SCALES, initial=entry.scale, required=False,
                                                          label=f"{entry.name} scale")

    def base_fields_shown(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "experiment", "dataset", "version", "flow_run", "target",
                                        "problem_type", "validation", "test_share", "folds", "exclude")]

    def search_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("algorithm", "strategy", "objective_metric", "max_trials", "max_parallel",
                                        "early_stopping", "warm_start_from")]

    def range_rows(self) -> list[RangeRow]:
        rows = []
        for entry in self.searched:
            prefix = f"{RANGE_PREFIX}{entry.name}_"
            if isinstance(entry, CategoricalRange):
                rows.append(RangeRow(entry.name, True, self[prefix + "on"], values=self[prefix + "values"]))
            else:
                rows.append(RangeRow(entry.name, False, self[prefix + "on"], self[prefix + "min"],
                                     self[prefix + "max"], self[prefix + "scale"]))
        return rows

    def ranges(self) -> list[dict[str, Any]]:
        """The included rows as the engine's simple range list (it checks them against the algorithm)."""
        out: list[dict[str, Any]] = []
        for entry in self.searched:
            prefix = f"{RANGE_PREFIX}{entry.name}_"
            if not self.cleaned_data.get(prefix + "on"):
                continue
            if isinstance(entry, CategoricalRange):
                text = self.cleaned_data.get(prefix + "values") or ""
                out.append({"name": entry.name, "values": [_value(part) for part in text.split(",") if part.strip()]})
                continue
            low, high = self.cleaned_data.get(prefix + "min"), self.cleaned_data.get(prefix + "max")
            if entry.kind == "integer":
                low, high = (int(v) if v is not None and float(v).is_integer() else v for v in (low, high))
            out.append({"name": entry.name, "type": entry.kind, "min": low, "max": high,
                        "scale": self.cleaned_data.get(prefix + "scale") or "linear"})
        return out
