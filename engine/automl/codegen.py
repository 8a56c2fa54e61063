"""The code that rebuilds AutoML's best model from a CSV file with plain pandas, scikit-learn and XGBoost, as a
standalone script and as a Jupyter notebook (nbformat 4 JSON, written directly).

The preprocessing is a ColumnTransformer that follows the model's feature plan column by column (median fill
with missing-value indicators or values left missing for learners that handle them, one-hot, ordinal or
frequency codes for categories, standard scaling for the algorithms that need it); the estimator is written
with the hyperparameters AutoML chose, read from the estimator the registry builds. An ensemble becomes a
VotingClassifier (soft voting) or VotingRegressor with the ensemble's weights. The studio's torch MLP is
written as scikit-learn's MLP with the same layers and optimiser settings: close, not identical.
"""

from __future__ import annotations

import inspect
import json
import math
from typing import Any

from engine.training.algorithms import algorithm_get
from engine.training.metrics import BINARY, CLASSIFICATION, REGRESSION
from engine.training.model import EnsembleEstimator, TrainedModel

from .run import AutoMLResult

METRIC_CODE = {
    "accuracy": "accuracy_score(y_true, predicted)",
    "balanced_accuracy": "balanced_accuracy_score(y_true, predicted)",
    "precision": "precision_score(y_true, predicted, average=AVERAGE, zero_division=0)",
    "recall": "recall_score(y_true, predicted, average=AVERAGE, zero_division=0)",
    "f1": "f1_score(y_true, predicted, average=AVERAGE, zero_division=0)",
    "roc_auc": ("roc_auc_score(y_true, proba[:, 1]) if proba.shape[1] == 2 else "
                "roc_auc_score(y_true, proba, multi_class='ovr')"),
    "log_loss": "log_loss(y_true, proba, labels=list(range(len(CLASSES))))",
    "rmse": "float(np.sqrt(mean_squared_error(y_true, predicted)))",
    "mae": "mean_absolute_error(y_true, predicted)",
    "r2": "r2_score(y_true, predicted)",
    "mape": "float(np.mean(np.abs((y_true - predicted) / y_true)[y_true != 0]))",
}
METRIC_IMPORTS = {"accuracy": "accuracy_score", "balanced_accuracy": "balanced_accuracy_score",
                  "precision": "precision_score", "recall": "recall_score", "f1": "f1_score",
                  "roc_auc": "roc_auc_score", "log_loss": "log_loss", "rmse": "mean_squared_error",
                  "mae": "mean_absolute_error", "r2": "r2_score", "mape": ""}

FREQUENCY_ENCODER = '''class FrequencyEncoder(BaseEstimator, TransformerMixin):
    """Each category as its share of the training rows (0 for a category not seen in training)."""

    def fit(self, X, y=None):
        X = pd.DataFrame(X)
        self.frequencies_ = [X[column].value_counts(normalize=True) for column in X.columns]
        return self

    def transform(self, X):
        X = pd.DataFrame(X)
        return np.column_stack([X[column].map(shares).astype(float).fillna(0.0).to_numpy()
                                for column, shares in zip(X.columns, self.frequencies_)])'''


def _value_code(value: Any, imports: set[str]) -> str:
    if hasattr(value, "get_params") and not isinstance(value, type):
        return _constructor_code(value, imports)
    if isinstance(value, float) and math.isnan(value):
        return 'float("nan")'
    if isinstance(value, list | tuple):
        inner = ", ".join(_value_code(item, imports) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_value_code(item, imports)}" for key, item in value.items()) + "}"
    return repr(value)


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, float) and isinstance(default, float) and math.isnan(value) and math.isnan(default):
        return True
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):
        return False


def _public_module(cls: type) -> str:
    parts = cls.__module__.split(".")
    if parts[0] == "xgboost":
        return "xgboost"
    return ".".join(part for part in parts if not part.startswith("_"))


def _constructor_code(estimator: Any, imports: set[str]) -> str:
    """`Class(param=value, ...)` with the parameters that differ from the class's defaults."""
    cls = type(estimator)
    imports.add(f"from {_public_module(cls)} import {cls.__name__}")
    defaults = {name: parameter.default for name, parameter in inspect.signature(cls.__init__).parameters.items()}
    arguments = []
    for name, value in estimator.get_params(deep=False).items():
        default = defaults.get(name, inspect.Parameter.empty)
        if value is None and default in (None, inspect.Parameter.empty):
            continue
        if name == "callbacks" or _same(value, default):
            continue
        arguments.append(f"{name}={_value_code(value, imports)}")
    return f"{cls.__name__}({', '.join(arguments)})"


def _estimator_code(model: TrainedModel, seed: int, threads: int, imports: set[str]) -> str:
    hps = model.hyperparameters
    if model.algorithm == "mlp":
        classification = model.problem_type in CLASSIFICATION
        name = "MLPClassifier" if classification else "MLPRegressor"
        imports.add(f"from sklearn.neural_network import {name}")
        layers = tuple(int(part) for part in str(hps["hidden_layers"]).split(",") if part.strip())
        return (f"{name}(hidden_layer_sizes={layers!r}, learning_rate_init={hps['learning_rate']!r}, "
                f"alpha={hps['weight_decay']!r}, batch_size={hps['batch_size']!r}, max_iter={hps['epochs']!r}, "
                f"random_state={seed!r})  # the studio's torch MLP, as scikit-learn's")
    estimator = algorithm_get(model.algorithm).build(model.problem_type, hps, seed, threads)
    return _constructor_code(estimator, imports)


def _pipeline_code(model: TrainedModel, seed: int, threads: int, imports: set[str]) -> tuple[str, bool]:
    """The Pipeline expression of one model, and whether it needs the frequency encoder."""
    plan = model.plan
    numbers = [column["name"] for column in plan["columns"] if column["encoding"] == "number"]
    one_hot = [column["name"] for column in plan["columns"] if column["encoding"] == "one_hot"]
    ordinal = [column["name"] for column in plan["columns"] if column["encoding"] == "ordinal"]
    frequency = [column["name"] for column in plan["columns"] if column["encoding"] == "frequency"]
    parts = []
    if numbers:
        numeric = "'passthrough'" if plan.get("handles_missing") else \
            "SimpleImputer(strategy='median', add_indicator=True)"
        parts.append(f"            ('numbers', {numeric}, {numbers!r}),")
    if one_hot:
        parts.append(f"            ('one_hot', OneHotEncoder(handle_unknown='ignore'), {one_hot!r}),")
    if ordinal:
        parts.append("            ('ordinal', OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1, "
                     f"encoded_missing_value=-1), {ordinal!r}),")
    if frequency:
        parts.append(f"            ('frequency', FrequencyEncoder(), {frequency!r}),")
    steps = ["        ('features', ColumnTransformer([\n" + "\n".join(parts) + "\n        ], sparse_threshold=0)),"]
    if plan.get("scale"):
        steps.append("        ('scale', StandardScaler()),")
    steps.append(f"        ('model', {_estimator_code(model, seed, threads, imports)}),")
    return "Pipeline([\n" + "\n".join(steps) + "\n    ])", bool(frequency)


def _sections(result: AutoMLResult) -> list[tuple[str, str]]:
    """(title, code) of each part of the program, in order."""
    model = result.best
    members = model.estimator.members if isinstance(model.estimator, EnsembleEstimator) else [model]
    weights = model.estimator.weights if isinstance(model.estimator, EnsembleEstimator) else [1.0]
    classification = result.problem_type in CLASSIFICATION
    imports: set[str] = set()
    pipelines = []
    frequency = False
    for member in members:
        code, needs = _pipeline_code(member, result.seed, result.threads, imports)
        pipelines.append((member, code))
        frequency = frequency or needs
    columns: dict[str, str] = {}
    for member in members:
        for column in member.plan["columns"]:
            if column["encoding"] != "dropped":
                columns.setdefault(column["name"], column["kind"])
    metric_import = METRIC_IMPORTS.get(result.metric, "")
    header = ["import sys", "", "import numpy as np", "import pandas as pd",
              "from sklearn.compose import ColumnTransformer", "from sklearn.impute import SimpleImputer",
              "from sklearn.model_selection import train_test_split", "from sklearn.pipeline import Pipeline",
              "from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler"]
    if frequency:
        header.append("from sklearn.base import BaseEstimator, TransformerMixin")
    if metric_import:
        header.append(f"from sklearn.metrics import {metric_import}")
    if len(members) > 1:
        header.append(f"from sklearn.ensemble import {'VotingClassifier' if classification else 'VotingRegressor'}")
    header += sorted(imports)
    settings = [
        f"TARGET = {result.target!r}",
        f"PROBLEM_TYPE = {result.problem_type!r}",
        f"METRIC = {result.metric!r}  # validation {result.metric} in the studio: {result.best_score:.4f}",
        f"SEED = {result.seed!r}",
        f"COLUMNS = {list(columns)!r}",
        f"BOOLEAN = {[name for name, kind in columns.items() if kind == 'boolean']!r}",
        f"DATETIME = {[name for name, kind in columns.items() if kind == 'datetime']!r}",
        f"CATEGORICAL = {[name for name, kind in columns.items() if kind in ('categorical', 'text')]!r}",
    ]
    if classification:
        settings.append(f"CLASSES = {model.classes!r}  # class labels; the model predicts their positions")
        settings.append(f"AVERAGE = {'binary' if result.problem_type == BINARY else 'macro'!r}")
    load = '''def label(value):
    """A class label as the studio writes it (2.0 and 2 are the same class)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def truthy(value):
    return 1.0 if str(value).strip().lower() in {"true", "1", "yes", "y", "t", "on"} else 0.0


def load(path):
    """The CSV's rows with a target, with booleans and dates as numbers and categories as text."""
    frame = pd.read_csv(path)
    frame = frame[frame[TARGET].notna()].reset_index(drop=True)
    for column in BOOLEAN:
        frame[column] = frame[column].map(truthy, na_action="ignore").astype(float)
    for column in DATETIME:
        stamps = pd.to_datetime(frame[column], errors="coerce", utc=True)
        frame[column] = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    for column in CATEGORICAL:
        frame[column] = frame[column].astype(str).where(frame[column].notna(), np.nan).astype(object)
    return frame


def target(frame):
''' + ('''    lookup = {name: code for code, name in enumerate(CLASSES)}
    return frame[TARGET].map(label).map(lookup).to_numpy()''' if classification else
       '''    return frame[TARGET].astype(float).to_numpy()''')
    if len(pipelines) == 1:
        build = f"def build_model():\n    return {pipelines[0][1]}"
    else:
        kind = "VotingClassifier" if classification else "VotingRegressor"
        lines = []
        for number, (member, code) in enumerate(pipelines, start=1):
            lines.append(f"def member_{number}():\n    \"\"\"{member.algorithm}\"\"\"\n    return {code}")
        entries = ", ".join(f"('{member.algorithm}_{number}', member_{number}())"
                            for number, (member, _) in enumerate(pipelines, start=1))
        voting = ", voting='soft'" if classification else ""
        weights_code = "[" + ", ".join(f"{weight:.6g}" for weight in weights) + "]"
        lines.append(f"def build_model():\n    return {kind}([{entries}]{voting},\n"
                     f"        weights={weights_code})")
        build = "\n\n\n".join(lines)
    if classification:
        evaluate = '''def score(model, X, y_true):
    proba = model.predict_proba(X)
    predicted = np.argmax(proba, axis=1)
    return ''' + METRIC_CODE[result.metric]
    else:
        evaluate = '''def score(model, X, y_true):
    proba = None
    predicted = model.predict(X)
    return ''' + METRIC_CODE[result.metric]
    main = f'''def main(path):
    frame = load(path)
    X, y = frame[COLUMNS], target(frame)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X, y, test_size=0.2, random_state=SEED{", stratify=y" if classification else ""})
    model = build_model().fit(X_train, y_train)
    print(f"validation {{METRIC}}: {{score(model, X_valid, y_valid):.4f}}")
    # The final model learns from every row, as the studio's does.
    return build_model().fit(X, y)


if __name__ == "__main__":
    main(sys.argv[1])'''
    title = (f'"""Rebuilds the model AutoML found for {result.target!r} ({result.problem_type}, '
             f'{model.algorithm}) with pandas and scikit-learn.\n\n'
             f"Usage: python {_file_name(result)} data.csv\n\n"
             "It fits on 80% of the rows, prints the validation score, then fits on all rows.\n\"\"\"")
    sections = [("title", title), ("imports", "\n".join(header)), ("settings", "\n".join(settings)),
                ("load", load)]
    if frequency:
        sections.append(("frequency", FREQUENCY_ENCODER))
    sections += [("model", build), ("score", evaluate), ("main", main)]
    return sections


def _file_name(result: AutoMLResult) -> str:
    safe = "".join(char if char.isalnum() else "_" for char in result.target).strip("_") or "target"
    return f"automl_{safe}.py"


def generated_code(result: AutoMLResult) -> dict[str, Any]:
    """{"script": Python source, "notebook": nbformat 4 JSON (a dict), "file_name"} for the best model."""
    if result.problem_type not in (*CLASSIFICATION, REGRESSION):
        raise ValueError("generated code is for supervised models")
    sections = _sections(result)
    script = "\n\n\n".join(code for _, code in sections[1:])
    script = sections[0][1] + "\n\n" + script + "\n"
    cells: list[dict[str, Any]] = [{
        "cell_type": "markdown", "metadata": {}, "source": _lines(
            f"# AutoML model for `{result.target}`\n\n{result.problem_type}, best: {result.best.algorithm}, "
            f"validation {result.metric} {result.best_score:.4f} ({result.validation}).\n\n"
            "Set `PATH` to the CSV file, then run all cells.")}]
    for name, code in sections[1:]:
        if name == "main":
            code = code.split("\n\nif __name__")[0] + '\n\n\nPATH = "data.csv"\nmodel = main(PATH)'
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                      "source": _lines(code)})
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}}, "cells": cells}
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    json.dumps(notebook)  # a notebook is plain JSON
    return {"script": script, "notebook": notebook, "file_name": _file_name(result)}


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]
