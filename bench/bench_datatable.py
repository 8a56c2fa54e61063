"""The dataset page's data table against the naive way of serving it, on a 1,000,000-row, 12-column dataset.

The studio serves a page from a memory-mapped Arrow copy of the version (made on first view) and a cached
argsort per sorted column; the naive peer reads the whole Parquet file with pandas, sorts and slices, as a
view without a cache would. Both run in this process, on the same file, in the same run. The studio's time
is a full request through Django's test client (URL routing, middleware, permission checks, template).

Writes bench/results/datatable.json; exits 1 if a page in a cached sort order is not at least 20× faster than
the peer (the unsorted page is reported too: there the peer skips its sort, and the request's fixed cost,
sessions, permission queries, template, is most of the studio's time; the selector alone is also timed).
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
VAR = ROOT / "var" / "bench-datatable"
RESULTS = ROOT / "bench" / "results" / "datatable.json"
ROWS, PAGE_SIZE, TARGET = 1_000_000, 50, 20.0

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
shutil.rmtree(VAR, ignore_errors=True)
os.environ["STUDIO_VAR_DIR"] = str(VAR)


def frame():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    cities = np.array(["Lisbon", "Oslo", "Quito", "Hanoi", "Accra", "Perth", "Lima", "Kyoto"], dtype=object)
    data = {
        "id": np.arange(ROWS),
        "customer": [f"C{n:07d}" for n in rng.integers(0, 300_000, ROWS)],
        "city": cities[rng.integers(0, len(cities), ROWS)],
        "age": rng.integers(18, 90, ROWS),
        "income": rng.normal(52_000, 15_000, ROWS).round(2),
        "score": rng.random(ROWS),
        "visits": rng.poisson(4, ROWS),
        "balance": rng.normal(0, 2_000, ROWS),
        "churned": rng.random(ROWS) < 0.2,
        "signup": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, ROWS), unit="D"),
        "segment": np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, ROWS)],
        "rating": rng.integers(1, 6, ROWS).astype(float),
    }
    df = pd.DataFrame(data)
    df.loc[rng.random(ROWS) < 0.05, "income"] = None  # missing values, shown as null cells
    return df


def median_seconds(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        # A real host name, so requests take the production path (no test-environment template hooks).
        return run(Client(HTTP_HOST="localhost"))
    finally:
        embedded_redis.stop(redis, settings.REDIS_SOCKET)
        shutil.rmtree(VAR, ignore_errors=True)


def run(client) -> int:
    import pandas as pd
    from django.contrib.auth import get_user_model

    from apps.core.artifacts import artifact_path
    from apps.core.services import project_create
    from apps.datasets.selectors import dataset_page
    from apps.datasets.services import dataset_import_dataframe

    user = get_user_model().objects.create_user("bench", password="a-long-bench-password")
    project = project_create(name="Bench", user=user)
    started = time.perf_counter()
    dataset = dataset_import_dataframe(project=project, user=user, name="customers", frame=frame())
    import_seconds = time.perf_counter() - started
    version = dataset.current_version
    parquet = artifact_path(version.parquet)
    client.force_login(user)
    url = f"/p/{project.slug}/data/{dataset.id}/table/"
    deep_page = ROWS // PAGE_SIZE // 2

    def page(**params):
        def call():
            response = client.get(url, {"page_size": PAGE_SIZE, **params}, HTTP_HX_REQUEST="true")
            assert response.status_code == 200, response.status_code
        return call

    def naive(sort: str | None = None, descending: bool = False, number: int = 1):
        def call():
            df = pd.read_parquet(parquet)
            if sort:
                df = df.sort_values(sort, ascending=not descending, na_position="last", kind="stable")
            start = (number - 1) * PAGE_SIZE
            df.iloc[start:start + PAGE_SIZE].to_dict("records")
        return call

    def rows(number: int, sort: str = "", descending: bool = False):
        return lambda: dataset_page(version=version, page=number, page_size=PAGE_SIZE, sort=sort,
                                    descending=descending)

    first_view = median_seconds(page(page=1), 1)  # writes the Arrow copy
    sort_first = median_seconds(page(page=1, sort="income"), 1)  # computes and saves the argsort
    cases = {  # name: (studio request, studio selector alone, naive peer, gated)
        "unsorted first page": (page(page=1), rows(1), naive(), False),
        "sorted by income (cached order)": (page(page=1, sort="income"), rows(1, "income"), naive("income"), True),
        f"deep page {deep_page:,}, sorted descending": (
            page(page=deep_page, sort="income", desc="1"), rows(deep_page, "income", True),
            naive("income", True, deep_page), True),
    }
    results = {"rows": ROWS, "columns": version.column_count, "page_size": PAGE_SIZE,
               "import_seconds": round(import_seconds, 2), "parquet_mb": round(parquet.stat().st_size / 2**20, 1),
               "first_view_seconds": round(first_view, 4), "first_sort_seconds": round(sort_first, 4), "cases": []}
    for name, (request_call, selector_call, peer_call, gated) in cases.items():
        studio = median_seconds(request_call, 40)
        selector = median_seconds(selector_call, 40)
        peer = median_seconds(peer_call, 3)
        results["cases"].append({"case": name, "studio_ms": round(studio * 1000, 2),
                                 "selector_ms": round(selector * 1000, 3), "naive_ms": round(peer * 1000, 1),
                                 "speedup": round(peer / studio, 1), "selector_speedup": round(peer / selector),
                                 "gated": gated})
    # The first sorted view pays for the argsort once; compare it too so the cost is visible.
    naive_sorted = next(c["naive_ms"] for c in results["cases"] if c["case"].startswith("sorted"))
    results["first_sort_speedup"] = round(naive_sorted / (sort_first * 1000), 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{ROWS:,} rows × {version.column_count} columns; import {import_seconds:.1f} s; "
          f"first view {first_view * 1000:.0f} ms; first sort {sort_first * 1000:.0f} ms")
    print(f"{'case':42} {'request':>9} {'selector':>9} {'naive':>8} {'speedup':>8} {'selector':>9}")
    for case in results["cases"]:
        print(f"{case['case']:42} {case['studio_ms']:>7.1f}ms {case['selector_ms']:>7.2f}ms "
              f"{case['naive_ms']:>6.0f}ms {case['speedup']:>7.1f}× {case['selector_speedup']:>8}×")
    slow = [c for c in results["cases"] if c["gated"] and c["speedup"] < TARGET]
    if slow:
        print(f"FAIL: cached pages must be at least {TARGET:.0f}× faster: {slow}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
