"""Files on the server that an admin allowed the studio to import from (STUDIO_IMPORT_PATHS).

A requested path is refused unless, once every symlink is followed, it names a regular file inside one of the
allowed directories. Parent references, NUL and control characters, backslashes and percent-encoded
characters are refused before the file system is asked anything."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from .errors import DatasetFileError

_ENCODED = re.compile(r"%[0-9a-fA-F]{2}")


class PathRefused(DatasetFileError):
    """A server path the studio will not read."""


def allowed_roots(allowed_dirs: Sequence[str | Path]) -> list[Path]:
    return [Path(directory).resolve() for directory in allowed_dirs if str(directory).strip()]


def resolve_allowed(path: str, allowed_dirs: Sequence[str | Path], *, what: str = "file") -> Path:
    """The real path of an allowed regular file. A relative path is looked up in each allowed directory."""
    roots = allowed_roots(allowed_dirs)
    if not roots:
        raise PathRefused("Importing from server paths is turned off: an admin has not allowed any directory "
                          "(STUDIO_IMPORT_PATHS).")
    if not isinstance(path, str) or not path.strip():
        raise PathRefused(f"Give the path of the {what}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise PathRefused("The path contains a NUL or control character.")
    if "\\" in path:
        raise PathRefused("Use / between the parts of the path, not \\.")
    if _ENCODED.search(path):
        raise PathRefused("The path contains percent-encoded characters; give the plain path.")
    if any(part == ".." for part in path.split("/")):
        raise PathRefused("The path may not contain '..'; give the full path inside an allowed directory.")
    if path.startswith("~"):
        raise PathRefused("Give the full path; '~' is not expanded.")
    outside = False
    if os.path.isabs(path):
        spelled = {Path(directory) for directory in allowed_dirs if str(directory).strip()} | set(roots)
        outside = not any(Path(path).is_relative_to(root) for root in spelled)
        candidates = [] if outside else [Path(path)]
    else:
        candidates = [root / path for root in roots]
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, RuntimeError):
            raise PathRefused(f"The {what} {path!r} cannot be read.") from None
        if not any(real == root or root in real.parents for root in roots):
            outside = True
            continue
        if not real.is_file():
            raise PathRefused(f"{path!r} is not a regular file.")
        return real
    if outside:
        raise PathRefused(f"{path!r} is outside the directories this studio may import from: "
                          + ", ".join(str(root) for root in roots) + ".")
    raise PathRefused(f"There is no {what} at {path!r} in the directories this studio may import from.")
