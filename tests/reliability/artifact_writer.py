"""Writes artifacts in a loop until killed: `python -m tests.reliability.artifact_writer <project id>`.
Used by test_artifact_kill.py, which SIGKILLs it mid-write."""

from __future__ import annotations

import os
import random
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django.setup()

from apps.core.artifacts import artifact_put_bytes  # noqa: E402
from apps.core.models import Project  # noqa: E402


def main() -> None:
    project = Project.objects.get(id=int(sys.argv[1]))
    rng = random.Random(os.getpid())
    written = 0
    while True:
        data = os.urandom(rng.randint(256 * 1024, 6 * 1024 * 1024))
        artifact_put_bytes(data=data, project=project, name=f"blob {written}", media_type="application/octet-stream",
                           kind="test")
        written += 1
        print(written, flush=True)


if __name__ == "__main__":
    main()
