"""Every file the studio opens under its data roots goes through `safe_path`: paths are built from
server-generated ids, then resolved and checked to stay inside the root (no `..`, no absolute parts,
no symlink that leads out, no NUL)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError


class UnsafePath(UserError):
    code = "unsafe_path"


def safe_path(root: Path | str, *parts: str) -> Path:
    root_path = Path(root).resolve()
    for part in parts:
        if not isinstance(part, str) or not part:
            raise UnsafePath("That file name is not allowed.")
        if "\x00" in part or "\\" in part or part.startswith(("/", "~")) or os.path.isabs(part):
            raise UnsafePath("That file name is not allowed.")
        if any(segment in ("..", ".") for segment in part.split("/")):
            raise UnsafePath("That file name is not allowed.")
    candidate = root_path.joinpath(*parts)
    resolved = candidate.resolve()
    if resolved != root_path and root_path not in resolved.parents:
        raise UnsafePath("That file name is not allowed.")
    return resolved
