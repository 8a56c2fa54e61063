"""Split: mark each row train, validation or test, so later steps fit on the training rows only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, transform

FAMILY = "Split"


def split_labels(count: int, train: float, validation: float) -> np.ndarray:
    """`count` labels, the first round(count * train) "train", then "validation", the rest "test"."""
    first = int(round(count * train))
    second = min(count, first + int(round(count * validation)))
    labels = np.full(count, "test", dtype=object)
    labels[:first] = "train"
    labels[first:second] = "validation"
    return labels


def key_share(key: Any, seed: int) -> float:
    """A number in [0, 1) fixed by the key's text and the seed: the same on every run and machine."""
    import hashlib

    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@transform("split_data", family=FAMILY,
           description="Add a column saying whether each row is for training, validation or test: at random, "
                       "keeping class proportions, by time (latest rows for test) or by key (all rows of a "
                       "customer on one side).",
           params=[Param("method", "choice", choices=("random", "stratified", "time", "key"), default="random",
                         required=False),
                   Param("train", "number", default=0.7, required=False, minimum=0, maximum=1),
                   Param("validation", "number", default=0.15, required=False, minimum=0, maximum=1),
                   Param("test", "number", default=0.15, required=False, minimum=0, maximum=1),
                   Param("target", "column", required=False, help="stratified: the class column"),
                   Param("order_by", "column", required=False, help="time: the column giving time order"),
                   Param("key", "column", required=False, help="key: rows with the same key stay together"),
                   Param("seed", "integer", default=0, required=False),
                   Param("column", "string", default="split", required=False, help="the column to add")],
           example={"method": "stratified", "target": "churned", "seed": 0},
           row_local=False, marks_split=True, uses=(TransformError, split_labels, key_share))
def split_data(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    method = params["method"]
    train, validation, test = float(params["train"]), float(params["validation"]), float(params["test"])
    if abs(train + validation + test - 1) > 1e-6:
        raise TransformError(f"The train, validation and test shares add up to {train + validation + test:g}; "
                             f"make them add up to 1.", param="train")
    needed = {"stratified": "target", "time": "order_by", "key": "key"}.get(method)
    if needed and not params.get(needed):
        raise TransformError(f"A {method} split needs the {needed.replace('_', ' ')} column.", param=needed)
    rng = np.random.default_rng(int(params["seed"]))
    labels = np.empty(len(df), dtype=object)
    if method == "random":
        labels[rng.permutation(len(df))] = split_labels(len(df), train, validation)
    elif method == "stratified":
        codes, _ = pd.factorize(df[params["target"]], sort=True, use_na_sentinel=False)
        for code in np.unique(codes):
            positions = rng.permutation(np.flatnonzero(codes == code))
            labels[positions] = split_labels(len(positions), train, validation)
    elif method == "time":
        order = df[params["order_by"]].reset_index(drop=True).rank(method="first", na_option="bottom")
        labels[np.argsort(order.to_numpy(), kind="stable")] = split_labels(len(df), train, validation)
    else:
        keys = df[params["key"]].astype("string").fillna("<missing>")
        shares = {key: key_share(key, int(params["seed"])) for key in keys.unique()}
        share = keys.map(shares).to_numpy(dtype="float64")
        labels = np.where(share < train, "train", np.where(share < train + validation, "validation", "test"))
    out = df.copy(deep=False)
    out[params["column"]] = pd.Series(labels, index=df.index, dtype="string")
    return out


@transform("assign_folds", family=FAMILY,
           description="Add a fold number (0 to folds - 1) for cross-validation: at random, keeping class "
                       "proportions, or with all rows of a key in one fold.",
           params=[Param("folds", "integer", default=5, required=False, minimum=2, maximum=100),
                   Param("method", "choice", choices=("random", "stratified", "key"), default="random",
                         required=False),
                   Param("target", "column", required=False, help="stratified: the class column"),
                   Param("key", "column", required=False, help="key: rows with the same key share a fold"),
                   Param("seed", "integer", default=0, required=False),
                   Param("column", "string", default="fold", required=False)],
           example={"folds": 5, "method": "stratified", "target": "churned"},
           row_local=False, uses=(TransformError, key_share))
def assign_folds(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    folds, method = int(params["folds"]), params["method"]
    needed = {"stratified": "target", "key": "key"}.get(method)
    if needed and not params.get(needed):
        raise TransformError(f"A {method} fold assignment needs the {needed} column.", param=needed)
    rng = np.random.default_rng(int(params["seed"]))
    labels = np.zeros(len(df), dtype="int64")
    if method == "random":
        labels[rng.permutation(len(df))] = np.arange(len(df)) % folds
    elif method == "stratified":
        codes, _ = pd.factorize(df[params["target"]], sort=True, use_na_sentinel=False)
        offset = 0
        for code in np.unique(codes):
            positions = rng.permutation(np.flatnonzero(codes == code))
            # Continue the cycle across classes so small classes do not all start in fold 0.
            labels[positions] = (np.arange(len(positions)) + offset) % folds
            offset += len(positions)
    else:
        keys = df[params["key"]].astype("string").fillna("<missing>")
        shares = {key: key_share(key, int(params["seed"])) for key in keys.unique()}
        labels = np.minimum((keys.map(shares).to_numpy(dtype="float64") * folds).astype("int64"), folds - 1)
    out = df.copy(deep=False)
    out[params["column"]] = labels
    return out
