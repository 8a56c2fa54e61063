"""kill -9 while artifacts are being written: every registered artifact still verifies, and every blob in
the store holds exactly the bytes its name (the sha256) promises. Half-written files stay in tmp/ only."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.artifacts import artifact_verify
from apps.core.models import Artifact
from tests.conftest import ROOT, _database_url_for_subprocess, wait_for

pytestmark = [pytest.mark.slow]


def _writer(project_id: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=_database_url_for_subprocess(), STUDIO_VAR_DIR=str(settings.VAR_DIR),
               STUDIO_ARTIFACT_ROOT=str(settings.ARTIFACT_ROOT), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.artifact_writer", str(project_id)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killing_a_writer_mid_write_never_leaves_a_registered_artifact_that_does_not_verify(
    transactional_db, project, settings, tmp_path  # noqa: F811 - the fixture overrides the same settings
):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"  # a store of its own, so every blob in it is this test's
    delays = [0.05, 0.13, 0.31, 0.47, 0.7]
    for delay in delays:
        before = Artifact.objects.count()
        writer = _writer(project.id)
        try:
            wait_for(lambda: Artifact.objects.count() > before or writer.poll() is not None, timeout=60, interval=0.02)
            assert writer.poll() is None, writer.stderr.read().decode()[-2000:]
            time.sleep(delay)  # land the kill somewhere in a later write: copying, fsyncing, renaming or registering
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
        assert writer.returncode == -signal.SIGKILL

    artifacts = list(Artifact.objects.filter(project=project))
    assert len(artifacts) >= len(delays)
    assert [artifact.name for artifact in artifacts if not artifact_verify(artifact)] == []

    root = Path(settings.ARTIFACT_ROOT)
    blobs = list(root.glob("[0-9a-f][0-9a-f]/*"))
    assert len(blobs) >= len(artifacts)
    for blob in blobs:
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name, f"{blob} is not whole"
