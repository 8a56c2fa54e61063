"""Balance: even out the classes of a target column by repeating, dropping or synthesising rows.

After a split step only the training rows are balanced: repeating or synthesising validation and test rows
would make the evaluation lie about the model. The other rows pass through unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import TRANSFORMS, Param, fitter, transform

FAMILY = "Balance"


def class_positions(df: pd.DataFrame, target: str, split_column: str | None) -> dict[Any, np.ndarray]:
    """Row positions of each class of `target` among the rows to balance: those marked "train" when
    `split_column` is in the data, else all. Missing targets are in no class."""
    values = df[target]
    if split_column and split_column in df.columns:
        values = values.where((df[split_column] == "train").fillna(False).astype(bool))
    if values.isna().all():
        raise TransformError(f"Column {target!r} has no values to balance"
                             f"{' in the training rows' if split_column in df.columns else ''}.", param="target")
    codes, classes = pd.factorize(values, sort=True)
    return {classes[code]: np.flatnonzero(codes == code) for code in range(len(classes))}


class_positions.uses = (TransformError,)  # type: ignore[attr-defined]


@transform("random_oversample", family=FAMILY,
           description="Repeat randomly chosen rows of the smaller classes until every class has as many rows as "
                       "the largest.",
           params=[Param("target", "column"), Param("seed", "integer", default=0, required=False),
                   Param("split_column", "string", default="split", required=False,
                         help="when the data has this column, only its train rows are balanced")],
           example={"target": "churned", "seed": 0}, row_local=False, uses=(TransformError, class_positions))
def random_oversample(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    rng = np.random.default_rng(int(params["seed"]))
    groups = class_positions(df, params["target"], params.get("split_column"))
    largest = max(len(positions) for positions in groups.values())
    extra = [rng.choice(positions, size=largest - len(positions), replace=True) for positions in groups.values()]
    added = np.concatenate(extra) if extra else np.array([], dtype=int)
    return pd.concat([df, df.iloc[added]], ignore_index=True)


@transform("random_undersample", family=FAMILY,
           description="Keep a random subset of the larger classes so that every class has as many rows as the "
                       "smallest; rows keep their order.",
           params=[Param("target", "column"), Param("seed", "integer", default=0, required=False),
                   Param("split_column", "string", default="split", required=False,
                         help="when the data has this column, only its train rows are balanced")],
           example={"target": "churned", "seed": 0}, row_local=False, uses=(TransformError, class_positions))
def random_undersample(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    rng = np.random.default_rng(int(params["seed"]))
    groups = class_positions(df, params["target"], params.get("split_column"))
    smallest = min(len(positions) for positions in groups.values())
    dropped = [np.setdiff1d(positions, rng.choice(positions, size=smallest, replace=False))
               for positions in groups.values()]
    # Rows outside the classes (missing target, validation and test rows) are kept.
    kept = np.setdiff1d(np.arange(len(df)), np.concatenate(dropped))
    return df.iloc[kept].reset_index(drop=True)


@transform("smote", family=FAMILY,
           description="Add synthetic rows to the smaller classes (SMOTE): each lies between a row and one of its "
                       "nearest neighbours of the same class on the number columns; other columns copy the nearer "
                       "of the two.",
           params=[Param("target", "column"),
                   Param("k_neighbors", "integer", default=5, required=False, minimum=1, maximum=100),
                   Param("seed", "integer", default=0, required=False),
                   Param("split_column", "string", default="split", required=False,
                         help="when the data has this column, only its train rows are balanced")],
           example={"target": "churned", "k_neighbors": 5, "seed": 0}, row_local=False,
           uses=(TransformError, class_positions))
def smote(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    from sklearn.neighbors import NearestNeighbors

    target, k = params["target"], int(params["k_neighbors"])
    rng = np.random.default_rng(int(params["seed"]))
    groups = class_positions(df, target, params.get("split_column"))
    numbers = [column for column in df.columns if column != target
               and pd.api.types.is_numeric_dtype(df[column].dtype) and not pd.api.types.is_bool_dtype(df[column].dtype)]
    if not numbers:
        raise TransformError("SMOTE needs number columns to place new rows between neighbours; this data has none. "
                             "Use random_oversample instead.", param="target")
    raw = df[numbers].astype("float64").to_numpy()
    # Neighbours are found on standardised values with gaps filled by the median, so no column dominates.
    medians = np.nan_to_num(np.nanmedian(raw, axis=0))
    filled = np.where(np.isnan(raw), medians, raw)
    scale = filled.std(axis=0)
    scaled = (filled - filled.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    largest = max(len(positions) for positions in groups.values())
    bases, partners, gaps = [], [], []
    for label, positions in groups.items():
        needed = largest - len(positions)
        if needed == 0:
            continue
        if len(positions) <= k:
            where = " training" if params.get("split_column") in df.columns else ""
            raise TransformError(f"Class {label!r} of {target!r} has {len(positions)}{where} "
                                 f"row{'' if len(positions) == 1 else 's'}; SMOTE with "
                                 f"{k} neighbours needs at least {k + 1}. Lower k neighbors or use "
                                 f"random_oversample.", param="k_neighbors")
        finder = NearestNeighbors(n_neighbors=k + 1).fit(scaled[positions])
        neighbours = finder.kneighbors(scaled[positions], return_distance=False)[:, 1:]
        chosen = rng.integers(0, len(positions), size=needed)
        picks = neighbours[chosen, rng.integers(0, k, size=needed)]
        bases.append(positions[chosen])
        partners.append(positions[picks])
        gaps.append(rng.random(needed))
    if not bases:
        return df.reset_index(drop=True)
    base, partner, gap = np.concatenate(bases), np.concatenate(partners), np.concatenate(gaps)
    synthetic = df.iloc[np.where(gap < 0.5, base, partner)].reset_index(drop=True)
    between = raw[base] + gap[:, None] * (raw[partner] - raw[base])
    # Where one of the pair has no value, the synthetic row takes the other's.
    between = np.where(np.isnan(between), np.where(np.isnan(raw[base]), raw[partner], raw[base]), between)
    for index, column in enumerate(numbers):
        values = pd.Series(between[:, index])
        if pd.api.types.is_integer_dtype(df[column].dtype):
            values = values.round()
            values = values.astype(df[column].dtype) if not values.isna().any() else values.astype("Int64")
        synthetic[column] = values.to_numpy() if values.dtype == "float64" else values
    return pd.concat([df, synthetic], ignore_index=True)


TRANSFORMS["smote"].extra["needs_sklearn"] = True


@transform("class_weights", family=FAMILY,
           description="Add a weight column that gives each class the same total weight (n / (classes × class "
                       "rows)), fitted on the training rows; a model trained with it balances classes without "
                       "changing the rows.",
           params=[Param("target", "column"), Param("column", "string", default="weight", required=False)],
           example={"target": "churned"})
def class_weights(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    labels = df[params["target"]].astype("string")  # the fitted weights are keyed by the class as text
    weights = labels.map(state["weights"]).astype("float64")
    out = df.copy(deep=False)
    # A class the training rows did not have gets weight 1; a missing target gets no weight.
    out[params["column"]] = weights.where(labels.isna() | weights.notna(), 1.0)
    return out


@fitter("class_weights")
def class_weights_fit(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    counts = df[params["target"]].dropna().value_counts()
    if counts.empty:
        raise TransformError(f"Column {params['target']!r} has no values in the training rows.", param="target")
    total = float(counts.sum())
    labels = counts.index.astype("string")
    return {"weights": {str(label): total / (len(counts) * float(count)) for label, count in zip(labels, counts,
                                                                                               strict=True)}}
