"""Custom pandas code steps, run in a separate Python process with a time limit, a memory limit and none of the
studio's environment variables (no database URL, no secret key). The studio runs them only in workers, only
where an administrator turned them on, and only for roles allowed to run code.

This is process isolation (engine.sandbox), not a full sandbox: the child runs as the same operating-system
user as the worker.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..sandbox import clean_env, limited_command, run_limited
from .errors import TransformError

# The child starts under hard memory and CPU limits (engine.sandbox's launcher sets them before this runs, so
# the code cannot raise them again), then runs the code as the exported script does: `df`, `pd` and `np` in,
# `df` out.
CHILD = r"""
import sys
import numpy as np
import pandas as pd
df = pd.read_parquet(sys.argv[1])
with open(sys.argv[3], encoding="utf-8") as handle:
    code = handle.read()
namespace = {"df": df, "pd": pd, "np": np}
exec(compile(code, "<custom step>", "exec"), namespace)
result = namespace.get("df")
if not isinstance(result, pd.DataFrame):
    sys.stderr.write("CustomStepError: the code must leave a DataFrame in df (got %s).\n" % type(result).__name__)
    sys.exit(3)
result.to_parquet(sys.argv[2])
"""


@dataclass(frozen=True)
class CustomCodeLimits:
    timeout_seconds: int = 300
    memory_mb: int = 2048


def _user_error(stderr: str) -> str:
    """The last lines of the child's traceback that concern the user's code, and its error line."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "the process ended without saying why"
    error = lines[-1]
    if error.startswith("CustomStepError: "):
        return error.removeprefix("CustomStepError: ")
    where = [line.strip() for line in lines if 'File "<custom step>"' in line]
    at = where[-1].replace('File "<custom step>", ', "") if where else ""
    return f"{error}" + (f" ({at})" if at else "")


def custom_code_run(frame: pd.DataFrame, code: str, limits: CustomCodeLimits) -> pd.DataFrame:
    if not code.strip():
        raise TransformError("Write the code of this step.", param="code")
    try:
        compile(code, "<custom step>", "exec")
    except SyntaxError as error:
        raise TransformError(f"Line {error.lineno}: {error.msg}.", param="code") from None
    with tempfile.TemporaryDirectory(prefix="custom-step-") as folder:
        path_in, path_out, path_code = (Path(folder) / name for name in ("in.parquet", "out.parquet", "code.py"))
        frame.to_parquet(path_in)
        path_code.write_text(code, encoding="utf-8")
        env = clean_env(home=folder, extra={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
        command = limited_command(
            [sys.executable, "-I", "-c", CHILD, str(path_in), str(path_out), str(path_code)],
            memory_mb=limits.memory_mb, cpu_seconds=limits.timeout_seconds + 5,
        )
        child = run_limited(command, cwd=folder, env=env, timeout_seconds=limits.timeout_seconds, grace_seconds=0)
        if child.timed_out:
            raise TransformError(f"The custom code ran longer than {limits.timeout_seconds} s and was stopped.",
                                 param="code")
        if child.returncode != 0:
            message = _user_error("\n".join(child.stderr_tail))
            if "MemoryError" in message or child.returncode in (-9, 137):
                message = f"the code needed more than {limits.memory_mb} MB of memory ({message})"
            raise TransformError(f"The custom code failed: {message}", param="code")
        return pd.read_parquet(path_out)
