from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PEOPLE_CSV = (
    b"id,name,age,score,member,joined\n"
    b"1,Ann,34,1.5,true,2021-01-02\n"
    b"2,=SUM(A1),,2.5,false,2021-02-03\n"
    b"3,Cho,29,,true,\n"
    b"4,Dan,41,0.5,false,2020-12-31\n"
)


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def upload_file():
    def make(name: str = "people.csv", data: bytes = PEOPLE_CSV) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, data)

    return make


@pytest.fixture
def ready_dataset(project, owner, upload_file, run_job):
    """A dataset imported from PEOPLE_CSV, version 1 ready."""
    from apps.datasets.services import dataset_upload

    dataset = dataset_upload(project=project, user=owner, upload=upload_file(), name="people")
    run_job(dataset.last_job)
    dataset.refresh_from_db()
    return dataset


def parquet_bytes(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
