"""The content-addressed artifact store.

Bytes are written to a temporary file, fsynced and renamed into place under their sha256; only then is an
Artifact row registered. Reads check the sha256 again, so a corrupted or swapped file is never used.
Local disk by default; S3-compatible object storage when STUDIO_S3_BUCKET is set (then the local folder
is a verified cache).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from django.conf import settings

from .errors import UserError
from .files import safe_path
from .models import Artifact, Project

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class ArtifactCorrupted(Exception):
    """A stored file whose bytes no longer match its registered sha256."""


def _blob_path(sha256: str) -> Path:
    if not SHA256_RE.match(sha256):
        raise UserError("That artifact id is not valid.")
    return safe_path(settings.ARTIFACT_ROOT, sha256[:2], sha256)


def _s3_client():  # pragma: no cover - needs an object store; see tests/apps/core/test_artifacts_s3.py
    import boto3

    return boto3.client("s3", endpoint_url=settings.S3_ENDPOINT_URL, region_name=settings.S3_REGION)


def _s3_key(sha256: str) -> str:
    return f"{settings.S3_PREFIX}{sha256[:2]}/{sha256}"


def _store_blob(source: BinaryIO) -> tuple[str, int, Path]:
    """Copy a stream into the store; returns (sha256, size, path). Atomic: temp file, fsync, rename."""
    root = Path(settings.ARTIFACT_ROOT)
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        final = _blob_path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and _file_sha256(final) == sha256:
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, final)
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        if settings.S3_BUCKET:  # pragma: no cover - needs an object store
            _s3_client().upload_file(str(final), settings.S3_BUCKET, _s3_key(sha256))
        return sha256, size, final
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_put_stream(
    *, stream: BinaryIO, project: Project, name: str, media_type: str, kind: str, user=None
) -> Artifact:
    sha256, size, _ = _store_blob(stream)
    return Artifact.objects.create(
        project=project, sha256=sha256, size=size, media_type=media_type, name=name[:255], kind=kind, created_by=user
    )


def artifact_put_file(*, path: Path, project: Project, name: str, media_type: str, kind: str, user=None) -> Artifact:
    with open(path, "rb") as handle:
        return artifact_put_stream(stream=handle, project=project, name=name, media_type=media_type, kind=kind, user=user)


def artifact_put_bytes(*, data: bytes, project: Project, name: str, media_type: str, kind: str, user=None) -> Artifact:
    import io

    return artifact_put_stream(
        stream=io.BytesIO(data), project=project, name=name, media_type=media_type, kind=kind, user=user
    )


def artifact_path(artifact: Artifact, *, verify: bool = True) -> Path:
    """The local path of an artifact's bytes, checked against its sha256 unless verify=False (hot read paths
    that were verified once, such as the data table cache)."""
    path = _blob_path(artifact.sha256)
    if not path.exists() and settings.S3_BUCKET:  # pragma: no cover - needs an object store
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix="download-")
        os.close(fd)
        _s3_client().download_file(settings.S3_BUCKET, _s3_key(artifact.sha256), tmp_name)
        os.replace(tmp_name, path)
    if not path.exists():
        raise ArtifactCorrupted(f"artifact {artifact.uuid} is missing from the store")
    if verify and _file_sha256(path) != artifact.sha256:
        raise ArtifactCorrupted(f"artifact {artifact.uuid} does not match its sha256")
    return path


@contextmanager
def artifact_open(artifact: Artifact, *, verify: bool = True) -> Iterator[IO[bytes]]:
    with open(artifact_path(artifact, verify=verify), "rb") as handle:
        yield handle


def artifact_verify(artifact: Artifact) -> bool:
    try:
        artifact_path(artifact, verify=True)
    except ArtifactCorrupted:
        return False
    return True


def artifact_copy_to(artifact: Artifact, destination: Path) -> None:
    with artifact_open(artifact) as source, open(destination, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def artifacts_sweep_incomplete(*, older_than_seconds: int = 24 * 3600) -> int:
    """Remove temporary files left by writers that were killed mid-write. They were never renamed into
    place nor registered, so nothing refers to them. Returns how many were removed."""
    import time

    tmp_dir = Path(settings.ARTIFACT_ROOT) / "tmp"
    if not tmp_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for leftover in tmp_dir.iterdir():
        if leftover.is_file() and not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed
