"""A small deterministic frame with every kind of column the transforms work on. Each registered transform's
`example` parameters must run on it; the tests run them all, in the studio and as exported scripts."""

from __future__ import annotations

import numpy as np
import pandas as pd

SAMPLE_ROWS = 240


def sample_frame(rows: int = SAMPLE_ROWS, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.6, rows)
    income[rng.choice(rows, 12, replace=False)] = np.nan
    age = rng.integers(18, 80, rows).astype("float64")
    age[rng.choice(rows, 9, replace=False)] = np.nan
    age[3] = 240.0  # an outlier
    city = rng.choice(["Paris", "paris", "Paris ", "Lyon", "Lille", "Nice", "Brest"], rows,
                      p=[0.3, 0.05, 0.05, 0.3, 0.2, 0.08, 0.02])
    city = pd.Series(city, dtype="string")
    city[rng.choice(rows, 7, replace=False)] = pd.NA
    words = np.array(["good", "bad", "fast", "slow", "price", "quality", "delivery", "service", "great", "poor"])
    review = pd.Series(
        [" ".join(rng.choice(words, rng.integers(2, 9))) + ("!" if i % 5 == 0 else "") for i in range(rows)],
        dtype="string",
    )
    signup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")
    last_seen = signup + pd.to_timedelta(rng.integers(0, 200 * 24, rows), unit="h")
    frame = pd.DataFrame({
        "customer_id": pd.Series([f"C{1000 + i}" for i in range(rows)], dtype="string"),
        "age": age,
        "income": income,
        "visits": rng.poisson(4, rows).astype("int64"),
        "score": rng.normal(0, 1, rows),
        "city": city,
        "plan": pd.Series(rng.choice(["basic", "plus", "pro"], rows, p=[0.6, 0.3, 0.1]), dtype="string"),
        "review": review,
        "signup_date": signup,
        "last_seen": last_seen,
        "signup_text": pd.Series(signup.strftime("%d/%m/%Y"), dtype="string"),
        "tags": pd.Series([",".join(rng.choice(["a", "b", "c", "d"], rng.integers(1, 4), replace=False))
                           for _ in range(rows)], dtype="string"),
        "attributes": pd.Series([f'{{"color": "{rng.choice(["red", "blue"])}", "size": {int(rng.integers(1, 5))}}}'
                                 for _ in range(rows)], dtype="string"),
        "active": rng.random(rows) < 0.7,
        "churned": pd.Series(rng.choice(["no", "yes"], rows, p=[0.8, 0.2]), dtype="string"),
    })
    return frame


def sample_other(seed: int = 11) -> pd.DataFrame:
    """A second frame for joins and concatenation: one row per city, plus a city nobody lives in."""
    rng = np.random.default_rng(seed)
    cities = ["Paris", "Lyon", "Lille", "Nice", "Brest", "Rennes"]
    return pd.DataFrame({
        "city": pd.Series(cities, dtype="string"),
        "region": pd.Series(["IDF", "ARA", "HDF", "PACA", "BRE", "BRE"], dtype="string"),
        "population": rng.integers(100_000, 2_000_000, len(cities)).astype("int64"),
    })
