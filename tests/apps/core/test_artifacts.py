"""The content-addressed store: atomic writes, sha256 checked at every load, identical content stored once."""

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.artifacts import (
    ArtifactCorrupted,
    artifact_open,
    artifact_path,
    artifact_put_bytes,
    artifact_put_stream,
    artifact_verify,
)
from apps.core.models import Artifact


@pytest.fixture(autouse=True)
def own_store(settings, tmp_path):
    """A store of this test's own: these tests corrupt blobs on purpose."""
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"

def _blobs() -> set[Path]:
    root = Path(settings.ARTIFACT_ROOT)
    return {path for path in root.rglob("*") if path.is_file() and "tmp" not in path.relative_to(root).parts}


def _temp_files() -> list[Path]:
    tmp = Path(settings.ARTIFACT_ROOT) / "tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


class BreaksMidCopy(io.RawIOBase):
    """Gives a few megabytes, then fails like a dropped upload connection."""

    def __init__(self, good_chunks: int) -> None:
        self.left = good_chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left == 0:
            raise ConnectionResetError("the client went away")
        self.left -= 1
        return b"x" * (1024 * 1024)


def test_a_write_that_fails_mid_copy_leaves_no_artifact_and_no_partial_blob(project):
    blobs_before, rows_before = _blobs(), Artifact.objects.count()
    with pytest.raises(ConnectionResetError):
        artifact_put_stream(stream=BreaksMidCopy(3), project=project, name="upload.csv", media_type="text/csv", kind="upload")
    assert Artifact.objects.count() == rows_before
    assert _blobs() == blobs_before
    assert _temp_files() == []


def test_an_artifact_is_registered_with_its_sha256_and_size_and_reads_back(project):
    data = b"id,price\n1,9.5\n"
    artifact = artifact_put_bytes(data=data, project=project, name="prices.csv", media_type="text/csv", kind="upload")
    assert artifact.sha256 == hashlib.sha256(data).hexdigest() and artifact.size == len(data)
    with artifact_open(artifact) as handle:
        assert handle.read() == data
    assert artifact_verify(artifact)


def test_a_corrupted_blob_is_refused_at_load(project):
    artifact = artifact_put_bytes(data=b"model weights", project=project, name="m.json", media_type="application/json", kind="model")
    artifact_path(artifact).write_bytes(b"model weighs")
    with pytest.raises(ArtifactCorrupted):
        with artifact_open(artifact):
            pass
    assert not artifact_verify(artifact)


def test_a_missing_blob_is_reported_as_corrupted(project):
    artifact = artifact_put_bytes(data=b"gone soon", project=project, name="g", media_type="text/plain", kind="upload")
    artifact_path(artifact).unlink()
    assert not artifact_verify(artifact)


def test_identical_content_is_stored_once_and_registered_per_upload(project):
    first = artifact_put_bytes(data=b"same bytes", project=project, name="a.txt", media_type="text/plain", kind="upload")
    blobs = _blobs()
    second = artifact_put_bytes(data=b"same bytes", project=project, name="b.txt", media_type="text/plain", kind="upload")
    assert first.id != second.id and first.sha256 == second.sha256
    assert artifact_path(first) == artifact_path(second)
    assert _blobs() == blobs
    assert _temp_files() == []


def test_a_damaged_copy_of_identical_content_is_repaired_by_the_next_write(project):
    first = artifact_put_bytes(data=b"precious", project=project, name="a", media_type="text/plain", kind="upload")
    artifact_path(first).write_bytes(b"damaged!")
    artifact_put_bytes(data=b"precious", project=project, name="b", media_type="text/plain", kind="upload")
    assert artifact_verify(first)


def test_the_sweep_removes_only_old_leftovers_of_interrupted_writes(settings, tmp_path):
    import os
    import time

    from apps.core.artifacts import artifacts_sweep_incomplete

    settings.ARTIFACT_ROOT = tmp_path / "store"
    tmp_dir = settings.ARTIFACT_ROOT / "tmp"
    tmp_dir.mkdir(parents=True)
    old, fresh = tmp_dir / "incoming-old", tmp_dir / "incoming-fresh"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"being written now")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    assert artifacts_sweep_incomplete() == 1
    assert not old.exists() and fresh.exists()
