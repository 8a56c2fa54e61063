"""The training form: dataset, version, target, problem type, algorithm, validation, and one typed field per
hyperparameter of the chosen algorithm (named hp_<name>), built from the algorithm registry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator

from engine.training import ALGORITHMS
from engine.training.hyperparams import Hyperparameter

from .models import ProblemType, Validation

HP_PREFIX = "hp_"


def hyperparameter_field(parameter: Hyperparameter) -> forms.Field:
    help_text = parameter.help
    attrs: dict[str, Any] = {}
    if parameter.minimum is not None:
        attrs["min"] = parameter.minimum
    if parameter.maximum is not None:
        attrs["max"] = parameter.maximum
    if parameter.kind == "boolean":
        return forms.BooleanField(required=False, initial=parameter.default, label=parameter.label, help_text=help_text)
    if parameter.kind == "choice":
        return forms.ChoiceField(choices=[(str(choice), str(choice)) for choice in parameter.choices],
                                 initial=parameter.default, label=parameter.label, help_text=help_text)
    if parameter.kind == "integer":
        attrs["step"] = 1
    elif parameter.kind == "number":
        attrs["step"] = "any"
    # Typed checks (range, whole numbers) are the engine's, so the form, the API and tuning say the same thing.
    widget = forms.TextInput(attrs={"inputmode": "decimal"}) if parameter.kind != "string" else forms.TextInput()
    if parameter.kind in ("integer", "number"):
        widget = forms.NumberInput(attrs=attrs)
    if parameter.nullable:
        help_text = f"{help_text} Leave empty for none."
    return forms.CharField(required=not parameter.nullable and parameter.kind == "string", initial=parameter.default,
                           label=parameter.label, help_text=help_text, widget=widget)


class TrainingForm(forms.Form):
    name = forms.CharField(required=False, max_length=120, help_text="Optional; a name is made from the algorithm "
                           "and dataset.")
    experiment = forms.CharField(required=False, max_length=120, help_text="The experiment its run is recorded "
                                 "in; empty: one named after the dataset.")
    dataset = forms.ChoiceField()
    version = forms.ChoiceField(required=False, help_text="Empty: the current version.")
    flow_run = forms.ChoiceField(required=False, label="Fitted flow",
                                 help_text="Optional: an applied flow whose fitted steps the model carries, so "
                                           "predictions get the same features.")
    algorithm = forms.ChoiceField(choices=[(name, entry.label) for name, entry in ALGORITHMS.items()],
                                  initial="xgboost")
    target = forms.ChoiceField(required=False, help_text="The column to predict (not for k-means, PCA, isolation "
                                                         "forest).")
    problem_type = forms.ChoiceField(choices=ProblemType.choices, required=False,
                                     help_text="Inferred from the target unless you choose.")
    validation = forms.ChoiceField(choices=Validation.choices, initial=Validation.HOLDOUT)
    test_share = forms.FloatField(initial=0.2, min_value=0.05, max_value=0.5, label="Validation share",
                                  help_text="Holdout: the share of rows kept for validation.")
    folds = forms.IntegerField(initial=5, min_value=2, max_value=20, help_text="k-fold: the number of folds.")
    exclude = forms.MultipleChoiceField(required=False, label="Leave out columns",
                                        help_text="Identifiers or columns known only after the target.")

    def __init__(self, *args: Any, datasets: list[tuple[str, str]], versions: list[int], columns: list[str],
                 flow_runs: list[tuple[str, str]], algorithm: str, refresh_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if refresh_url:
            # The fields that decide the others ask for the form again (htmx) when they change.
            for name in ("dataset", "version", "algorithm"):
                self.fields[name].widget.attrs.update({
                    "hx-get": refresh_url, "hx-trigger": "change", "hx-include": "#training-form",
                    "hx-target": "#training-fields", "hx-select": "#training-fields", "hx-swap": "outerHTML"})
        self.fields["dataset"].choices = datasets
        self.fields["version"].choices = [("", "Current")] + [(str(number), f"v{number}") for number in versions]
        self.fields["flow_run"].choices = [("", "None")] + flow_runs
        self.fields["target"].choices = [("", "No target (unsupervised)")] + [(name, name) for name in columns]
        self.fields["exclude"].choices = [(name, name) for name in columns]
        self.algorithm_spec = ALGORITHMS.get(algorithm) or ALGORITHMS["xgboost"]
        for parameter in self.algorithm_spec.hyperparameters:
            self.fields[HP_PREFIX + parameter.name] = hyperparameter_field(parameter)

    def hyperparameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(HP_PREFIX)]

    def base_fields_shown(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(HP_PREFIX)]

    def hyperparameters(self) -> dict[str, Any]:
        """The raw values typed in; the engine checks and converts them."""
        out: dict[str, Any] = {}
        for parameter in self.algorithm_spec.hyperparameters:
            value = self.cleaned_data.get(HP_PREFIX + parameter.name)
            out[parameter.name] = value
        return out


DEFAULT_METRICS = '[{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}]'


def _json_field(value: str, label: str, kind: type, example: str) -> Any:
    import json

    try:
        parsed = json.loads(value or ("{}" if kind is dict else "[]"))
    except ValueError as error:
        raise forms.ValidationError(f"{label} must be JSON ({error.msg} at character {error.pos}); e.g. {example}.")
    if not isinstance(parsed, kind):
        raise forms.ValidationError(f"{label} must be a JSON {'object' if kind is dict else 'list'}; e.g. {example}.")
    return parsed


class ScriptTrainingForm(forms.Form):
    """Your own train.py: uploaded as a file or pasted, with free-form hyperparameters, the regexes that read
    metrics from its log, and its limits. The script's own checks (compiles, regexes valid) are the engine's."""

    name = forms.CharField(required=False, max_length=120, help_text="Optional; a name is made from the dataset.")
    experiment = forms.CharField(required=False, max_length=120, help_text="The experiment its run is recorded "
                                 "in; empty: one named after the dataset.")
    dataset = forms.ChoiceField(help_text="Its rows are the channel training: SM_CHANNEL_TRAINING holds data.csv and "
                                          "data.parquet.")
    version = forms.ChoiceField(required=False, help_text="Empty: the current version.")
    target = forms.ChoiceField(required=False, help_text="Optional, for the record: the column the script predicts.")
    script_file = forms.FileField(required=False, label="train.py file", help_text="Upload the script, or paste it "
                                  "below.")
    script = forms.CharField(required=False, label="train.py", widget=forms.Textarea(
        attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        help_text="Runs with this studio's Python (pandas, scikit-learn, xgboost, torch); save the model in "
                  "SM_MODEL_DIR, reports in SM_OUTPUT_DATA_DIR, checkpoints in SM_CHECKPOINT_DIR.")
    hyperparameters = forms.CharField(required=False, initial="{}", widget=forms.Textarea(attrs={"rows": 3}),
                                      help_text='JSON object, e.g. {"epochs": 10, "lr": 0.01}; passed as --epochs 10 '
                                                "--lr 0.01 and as SM_HP_ variables.")
    metric_definitions = forms.CharField(required=False, initial=DEFAULT_METRICS,
                                         widget=forms.Textarea(attrs={"rows": 3}),
                                         help_text="JSON list of {name, regex}: the first capture group of each "
                                                   "regex is read from every log line.")
    timeout_seconds = forms.IntegerField(min_value=1, label="Time limit (seconds)")
    memory_mb = forms.IntegerField(min_value=128, label="Memory limit (MB)")
    network_isolation = forms.BooleanField(required=False, label="Run without network access")

    def __init__(self, *args: Any, datasets: list[tuple[str, str]], versions: list[int], columns: list[str],
                 max_timeout: int, max_memory: int, isolation_problem: str | None, refresh_url: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if refresh_url:
            for name in ("dataset", "version"):
                self.fields[name].widget.attrs.update({
                    "hx-get": refresh_url, "hx-trigger": "change", "hx-include": "#script-form",
                    "hx-target": "#script-data-fields", "hx-select": "#script-data-fields", "hx-swap": "outerHTML"})
        self.fields["dataset"].choices = datasets
        self.fields["version"].choices = [("", "Current")] + [(str(number), f"v{number}") for number in versions]
        self.fields["target"].choices = [("", "None")] + [(name, name) for name in columns]
        timeout, memory = self.fields["timeout_seconds"], self.fields["memory_mb"]
        timeout.initial, memory.initial = max_timeout, max_memory
        timeout.validators.append(MaxValueValidator(max_timeout))
        memory.validators.append(MaxValueValidator(max_memory))
        timeout.widget.attrs.update({"min": 1, "max": max_timeout})
        memory.widget.attrs.update({"min": 128, "max": max_memory})
        timeout.help_text = f"At most {max_timeout} seconds (the administrator's STUDIO_SCRIPT_TIMEOUT_SECONDS)."
        memory.help_text = f"At most {max_memory} MB (STUDIO_SCRIPT_MEMORY_MB)."
        isolation = self.fields["network_isolation"]
        if isolation_problem:
            isolation.disabled = True
            isolation.help_text = f"Not available on this server: {isolation_problem}."
        else:
            isolation.help_text = "The script gets no network at all (no downloads, no DNS)."

    DATA_FIELDS = ("name", "experiment", "dataset", "version", "target")

    def data_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.DATA_FIELDS]

    def script_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.DATA_FIELDS]

    def clean_hyperparameters(self) -> dict[str, Any]:
        return _json_field(self.cleaned_data.get("hyperparameters", ""), "Hyperparameters", dict, '{"epochs": 10}')

    def clean_metric_definitions(self) -> list[Any]:
        return _json_field(self.cleaned_data.get("metric_definitions", ""), "Metric definitions", list,
                           DEFAULT_METRICS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("script_file")
        if upload is not None:
            from engine.training.script import MAX_SCRIPT_BYTES

            if upload.size > MAX_SCRIPT_BYTES:
                self.add_error("script_file", f"The script is larger than {MAX_SCRIPT_BYTES // 1000} kB.")
                return data
            try:
                data["script"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("script_file", "The script is not UTF-8 text.")
        elif not (data.get("script") or "").strip():
            self.add_error("script", "Upload train.py or paste it here.")
        return data
