"""Importing from a real S3-compatible server over HTTP (moto's server, started on a local port), with the
client the studio builds from its settings: the same path a MinIO or AWS endpoint takes."""

from __future__ import annotations

import pytest

from apps.core.errors import UserError
from apps.core.models import JobStatus
from apps.datasets.models import Dataset
from apps.datasets.sources import dataset_import_s3

from .conftest import PEOPLE_CSV


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def lake(s3_server, settings):
    import boto3

    settings.IMPORT_S3_ENABLED = True
    settings.IMPORT_S3_BUCKETS = ["lake"]
    settings.IMPORT_S3_ENDPOINT_URL = s3_server
    settings.IMPORT_S3_REGION = "us-east-1"
    settings.IMPORT_S3_ACCESS_KEY_ID = "studio"
    settings.IMPORT_S3_SECRET_ACCESS_KEY = "studio-secret"  # noqa: S105 - moto accepts any key
    admin = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="studio",
                         aws_secret_access_key="studio-secret")  # noqa: S106
    if "lake" not in [bucket["Name"] for bucket in admin.list_buckets().get("Buckets", [])]:
        admin.create_bucket(Bucket="lake")
    admin.put_object(Bucket="lake", Key="exports/people.csv", Body=PEOPLE_CSV)
    return admin


def test_an_object_on_a_real_server_is_streamed_and_imported(project, owner, lake, run_job):
    dataset = dataset_import_s3(project=project, user=owner, uri="s3://lake/exports/people.csv")
    assert run_job(dataset.last_job).status == JobStatus.COMPLETED
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.row_count == 4 and version.origin == "s3"
    assert version.origin_detail["uri"] == "s3://lake/exports/people.csv"
    assert version.origin_detail["etag"] == lake.head_object(Bucket="lake", Key="exports/people.csv")["ETag"].strip('"')


def test_a_missing_key_and_a_bucket_outside_the_allowed_list_say_so(project, owner, lake):
    with pytest.raises(UserError, match="There is no object s3://lake/nothing.csv"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/nothing.csv")
    with pytest.raises(UserError, match="The bucket 'other' is not one this studio may import from: lake"):
        dataset_import_s3(project=project, user=owner, uri="s3://other/people.csv")
    assert not Dataset.objects.exists()
