"""kill -9 while artifacts are being written: every registered artifact still verifies, and no blob in the
store holds bytes that do not match its name (partial copies only ever live in the temp folder)."""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.artifacts import artifact_verify
from apps.core.models import Artifact
from tests.conftest import ROOT, _database_url_for_subprocess

pytestmark = pytest.mark.slow


def _writer(project_id: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=_database_url_for_subprocess(), STUDIO_VAR_DIR=str(settings.VAR_DIR),
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.artifact_writer", str(project_id)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _blobs_in_place() -> list[Path]:
    root = Path(settings.ARTIFACT_ROOT)
    return [path for path in root.rglob("*") if path.is_file() and path.relative_to(root).parts[0] != "tmp"]


def test_artifacts_written_while_the_writer_is_killed_with_sigkill_all_verify(transactional_db, project):
    rng = random.Random(20261123)
    blobs_before = set(_blobs_in_place())  # the store outlives a test run; other tests corrupt blobs on purpose
    for _round in range(3):
        writer = _writer(project.id)
        first_line = writer.stdout.readline()  # one artifact written: the writer is up and in its loop
        assert first_line.strip() == b"1", writer.stderr.read().decode()[-2000:]
        time.sleep(rng.uniform(0.05, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        assert writer.returncode == -signal.SIGKILL

    artifacts = list(Artifact.objects.filter(project=project))
    assert len(artifacts) >= 3
    assert [artifact.name for artifact in artifacts if not artifact_verify(artifact)] == []
    for blob in set(_blobs_in_place()) - blobs_before:
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name, f"{blob} is a partial or foreign write"
