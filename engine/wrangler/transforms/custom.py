"""Custom: your own pandas code as a step. It never runs in the web process: flow_run hands it to
engine/wrangler/custom.py (a separate process with limits) when the caller allows custom code, and the preview
stops before it otherwise. The exported script runs the same code with this function."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import TRANSFORMS, Param, transform


@transform("custom_pandas", family="Custom",
           description="Run your own pandas code on the data: df (with pd and np) in, df out; runs in a worker, "
                       "in a separate process with time and memory limits.",
           params=[Param("code", "code", help="Python that reads and assigns df, e.g. df['total'] = df.a + df.b")],
           example={"code": "df['visits_twice'] = df['visits'] * 2\ndf = df[df['visits'] > 0]"},
           row_local=False, uses=(TransformError,))
def custom_pandas(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    namespace = {"df": df.copy(), "pd": pd, "np": np}
    # The exported script runs the user's own code on the user's own machine; in the studio this function
    # only ever runs inside the limited child process (see engine/wrangler/custom.py).
    exec(compile(params["code"], "<custom step>", "exec"), namespace)  # noqa: S102  # nosec B102
    result = namespace.get("df")
    if not isinstance(result, pd.DataFrame):
        raise TransformError("The code must leave a DataFrame in df.", param="code")
    return result


TRANSFORMS["custom_pandas"].extra["worker_only"] = True
