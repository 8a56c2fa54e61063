"""Experiment tracking: how fast runs take metric points, and how fast runs are searched.

1. Ingestion: metric points per second through `run_log_batch` (the path training jobs use) and through
   `POST /api/v1/runs/{id}/log-batch/` (Django's test client: routing, middleware, token-free session auth,
   role check, JSON parsing, the service), 1000 points per batch. The peer is the raw limit of the same table:
   `RunMetric.objects.bulk_create` of ready-made rows in one transaction per 1000, and the prepared INSERT the
   service uses (executemany) without the service's checks and summary. Target: ≥ 20,000 points/s.
2. Search: 10,000 runs, each with 10 params and 10 metrics; the filter
   `metrics.auc > 0.9 and params.max_depth = 6` ordered by `metrics.auc DESC`, a page of 100 with its count:
   through the API (`GET /api/v1/runs/?filter=…`) and through the selector alone. p95 of 60 requests.
   The peer evaluates the same filter in Python over slimmed rows (id, metrics, numeric params) fetched from
   the database: the other way the selector could work. Target: API p95 ≤ 200 ms.

Writes bench/results/experiments.json; exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-experiments"
RESULTS = ROOT / "bench" / "results" / "experiments.json"
INGEST_TARGET, SEARCH_TARGET_MS = 20_000, 200.0
BATCH, BATCHES = 1000, 60
RUNS, REQUESTS, PAGE = 10_000, 60, 100
FILTER, ORDER = "metrics.auc > 0.9 and params.max_depth = 6", "metrics.auc DESC"

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
shutil.rmtree(VAR, ignore_errors=True)
os.environ["STUDIO_VAR_DIR"] = str(VAR)


def batch(offset: int) -> list[dict]:
    keys = ("loss", "val_loss", "accuracy", "val_accuracy", "lr")
    return [{"key": keys[i % 5], "value": 1.0 / (offset + i + 1), "step": (offset + i) // 5,
             "timestamp": 1_700_000_000_000 + offset + i} for i in range(BATCH)]


def points_per_second(call, batches: int) -> float:
    call(0)  # warm-up
    started = time.perf_counter()
    for number in range(1, batches + 1):
        call(number * BATCH)
    return batches * BATCH / (time.perf_counter() - started)


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(call, runs: int) -> dict[str, float]:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from studio import embedded_redis

    redis = embedded_redis.start(settings.REDIS_SOCKET, settings.VAR_DIR / "redis") if settings.EMBEDDED_REDIS else None
    try:
        call_command("migrate", verbosity=0)
        return run(Client(HTTP_HOST="localhost"))
    finally:
        embedded_redis.stop(redis, settings.REDIS_SOCKET)
        shutil.rmtree(VAR, ignore_errors=True)


def ingestion(client, user, project) -> dict:
    from django.db import transaction

    from apps.experiments.models import RunMetric
    from apps.experiments.services import _insert_points, experiment_get_or_create, run_log_batch, run_start
    from engine.experiments import check_metrics

    experiment = experiment_get_or_create(project=project, name="ingest", user=user)
    service_run, api_run, raw_run = (run_start(experiment=experiment, user=user, name=n) for n in "sar")
    service = points_per_second(lambda offset: run_log_batch(run=service_run, metrics=batch(offset)), BATCHES)
    bodies = {}

    def post(offset: int) -> None:
        body = bodies.setdefault(offset, json.dumps({"metrics": batch(offset)}))
        response = client.post(f"/api/v1/runs/{api_run.id}/log-batch/", body, content_type="application/json")
        assert response.status_code == 200, response.content

    for number in range(BATCHES + 1):  # the client's JSON encoding is not the server's work
        bodies[number * BATCH] = json.dumps({"metrics": batch(number * BATCH)})
    api = points_per_second(post, BATCHES)

    def raw(offset: int) -> None:
        with transaction.atomic():
            RunMetric.objects.bulk_create([RunMetric(run_id=raw_run.id, **point) for point in batch(offset)],
                                          batch_size=BATCH)

    bulk = points_per_second(raw, BATCHES)

    def executemany(offset: int) -> None:  # the service's own insert, without its checks and metric summary
        with transaction.atomic():
            _insert_points(raw_run.id, check_metrics(batch(offset)))

    ceiling = points_per_second(executemany, BATCHES)
    assert RunMetric.objects.filter(run=service_run).count() == (BATCHES + 1) * BATCH
    return {"batch_size": BATCH, "batches": BATCHES, "service_points_per_s": round(service),
            "api_points_per_s": round(api), "bulk_create_points_per_s": round(bulk),
            "executemany_points_per_s": round(ceiling),
            "service_share_of_bulk_create": round(service / bulk, 2), "api_share_of_bulk_create": round(api / bulk, 2)}


def make_runs(user, project):
    """10,000 runs with 10 params and 10 metrics each, written in bulk (what 10,000 log calls leave behind)."""
    import numpy as np

    from apps.experiments.models import Run
    from apps.experiments.services import experiment_get_or_create
    from engine.experiments import as_number

    experiment = experiment_get_or_create(project=project, name="search", user=user)
    rng = np.random.default_rng(7)
    rows = []
    for index in range(RUNS):
        params = {"max_depth": str(int(rng.integers(2, 11))), "learning_rate": f"{rng.choice([0.01, 0.05, 0.1, 0.3])}",
                  "n_estimators": str(int(rng.integers(50, 500))), "subsample": f"{rng.random():.2f}",
                  "algorithm": str(rng.choice(["xgboost", "lightgbm", "random_forest"])), "seed": str(index),
                  "min_child_weight": str(int(rng.integers(1, 10))), "gamma": f"{rng.random():.3f}",
                  "objective": "binary:logistic", "booster": str(rng.choice(["gbtree", "dart"]))}
        metrics = {"auc": float(rng.beta(8, 2)), "accuracy": float(rng.random()), "f1": float(rng.random()),
                   "precision": float(rng.random()), "recall": float(rng.random()), "logloss": float(rng.random()),
                   "rmse": float(rng.random() * 5), "train_auc": float(rng.random()),
                   "val_auc": float(rng.random()), "seconds": float(rng.random() * 100)}
        rows.append(Run(experiment=experiment, name=f"run-{index}", params=params, metrics=metrics,
                        params_numeric={k: n for k, v in params.items() if (n := as_number(v)) is not None},
                        tags={"team": "vision" if index % 2 else "tabular"}, created_by=user))
    Run.objects.bulk_create(rows, batch_size=500)
    return experiment


def python_peer(experiment, comparisons, descending_key: str) -> tuple[int, list[int]]:
    """The same filter evaluated in Python over (id, metrics, params_numeric) rows, sorted, one page."""
    import operator

    from apps.experiments.models import Run

    ops = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}
    matched = []
    for run_id, metrics, numeric in Run.objects.filter(experiment=experiment, deleted_at__isnull=True) \
            .values_list("id", "metrics", "params_numeric").iterator(chunk_size=2000):
        ok = True
        for c in comparisons:
            value = (metrics if c.kind == "metric" else numeric).get(c.key)
            if value is None or not ops[c.operator](value, c.value):
                ok = False
                break
        if ok:
            matched.append((metrics.get(descending_key), run_id))
    matched.sort(key=lambda item: (item[0] is None, -(item[0] or 0.0)))
    page = [run_id for _, run_id in matched[:PAGE]]
    list(Run.objects.filter(id__in=page))  # the page's full rows, as the API would serialise
    return len(matched), page


def search(client, user, project) -> dict:
    from apps.experiments.selectors import run_list, run_search
    from engine.experiments import parse_filter

    experiment = make_runs(user, project)
    url = "/api/v1/runs/"
    query = {"experiment": experiment.id, "filter": FILTER, "order_by": ORDER, "page_size": PAGE}

    def api() -> None:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == PAGE

    def selector() -> list:
        """As the API pages: every matching id in order (their number is the count), then the page's rows."""
        runs = run_search(run_list(user=user, experiment=experiment), filter_text=FILTER, order_by=ORDER)
        ids = list(runs.values_list("id", flat=True))
        rows = {run.id: run for run in runs.order_by().filter(id__in=ids[:PAGE])}
        return [len(ids), [rows[run_id] for run_id in ids[:PAGE]]]

    count, page = selector()
    peer_count, peer_page = python_peer(experiment, parse_filter(FILTER), "auc")
    assert count == peer_count and [run.id for run in page] == peer_page, "the peer must find the same runs"
    return {"runs": RUNS, "params_per_run": 10, "metrics_per_run": 10, "filter": FILTER, "order_by": ORDER,
            "page_size": PAGE, "matches": count, "requests": REQUESTS,
            "api": timed(api, REQUESTS), "selector": timed(selector, REQUESTS),
            "python_peer": timed(lambda: python_peer(experiment, parse_filter(FILTER), "auc"), 15)}


def run(client) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.core.services import project_create

    user = get_user_model().objects.create_user("bench", password="a-long-bench-password")
    project = project_create(name="Bench", user=user)
    client.force_login(user)
    results = {"database": connection.vendor, "ingestion": ingestion(client, user, project),
               "search": search(client, user, project)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    ingest, found = results["ingestion"], results["search"]
    print(f"ingestion (points/s, {BATCH} per batch): service {ingest['service_points_per_s']:,}, "
          f"API {ingest['api_points_per_s']:,}, raw bulk_create {ingest['bulk_create_points_per_s']:,}, "
          f"raw executemany {ingest['executemany_points_per_s']:,}")
    print(f"search over {RUNS:,} runs ({found['matches']} matches, page of {PAGE}): "
          f"API p95 {found['api']['p95_ms']} ms (median {found['api']['median_ms']}), "
          f"selector p95 {found['selector']['p95_ms']} ms, Python peer p95 {found['python_peer']['p95_ms']} ms")
    missed = []
    if min(ingest["service_points_per_s"], ingest["api_points_per_s"]) < INGEST_TARGET:
        missed.append(f"ingestion below {INGEST_TARGET:,} points/s")
    if found["api"]["p95_ms"] > SEARCH_TARGET_MS:
        missed.append(f"search p95 above {SEARCH_TARGET_MS:.0f} ms")
    if missed:
        print("FAIL: " + "; ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
