"""Importing s3://bucket/key from the admin-configured storage. Here botocore's
Stubber answers the client's calls, so these check what is asked and how each answer is handled (errors a
real server rarely gives on demand); test_import_s3_server.py runs the import against a real S3 server."""

import io

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from apps.core.errors import UserError
from apps.core.models import JobStatus
from apps.datasets.models import Dataset
from apps.datasets.sources import dataset_import_s3

from .conftest import PEOPLE_CSV


@pytest.fixture
def s3(settings):
    settings.IMPORT_S3_ENABLED = True
    settings.IMPORT_S3_BUCKETS = []
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://s3.test",
                          aws_access_key_id="test", aws_secret_access_key="test")
    with Stubber(client) as stubber:
        yield client, stubber


def _expect_object(stubber, data: bytes, key: str = "exports/people.csv"):
    stubber.add_response("head_object", {"ContentLength": len(data), "ETag": '"abc"'},
                         {"Bucket": "lake", "Key": key})
    stubber.add_response("get_object", {"Body": StreamingBody(io.BytesIO(data), len(data))},
                         {"Bucket": "lake", "Key": key})


def test_an_object_is_copied_then_imported_like_an_upload(project, owner, s3, run_job):
    client, stubber = s3
    _expect_object(stubber, PEOPLE_CSV)
    dataset = dataset_import_s3(project=project, user=owner, uri="s3://lake/exports/people.csv", client=client)
    stubber.assert_no_pending_responses()
    assert dataset.name == "people" and dataset.last_job.kind == "dataset.import"
    assert run_job(dataset.last_job).status == JobStatus.COMPLETED
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.row_count == 4 and version.origin == "s3"
    assert version.origin_detail == {"uri": "s3://lake/exports/people.csv", "etag": "abc"}


def test_a_missing_object_or_denied_access_says_so(project, owner, s3):
    client, stubber = s3
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    with pytest.raises(UserError, match="There is no object s3://lake/x.csv"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/x.csv", client=client)
    stubber.add_client_error("head_object", service_error_code="403", http_status_code=403)
    with pytest.raises(UserError, match="may not read"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/x.csv", client=client)
    assert not Dataset.objects.exists()


def test_an_object_over_the_upload_limit_is_refused_before_download(project, owner, s3, settings):
    client, stubber = s3
    settings.MAX_UPLOAD_BYTES = 10
    stubber.add_response("head_object", {"ContentLength": 11}, {"Bucket": "lake", "Key": "big.csv"})
    with pytest.raises(UserError, match="larger than"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/big.csv", client=client)


def test_a_stream_longer_than_announced_is_cut_at_the_limit(project, owner, s3, settings):
    client, stubber = s3
    settings.MAX_UPLOAD_BYTES = 20
    stubber.add_response("head_object", {"ContentLength": 5}, {"Bucket": "lake", "Key": "big.csv"})
    stubber.add_response("get_object", {"Body": StreamingBody(io.BytesIO(PEOPLE_CSV), len(PEOPLE_CSV))},
                         {"Bucket": "lake", "Key": "big.csv"})
    with pytest.raises(UserError, match="larger than"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/big.csv", client=client)
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(("uri", "message"), [
    ("http://lake/x.csv", "S3 URI such as"), ("s3://lake/", "S3 URI such as"), ("s3:///x.csv", "S3 URI such as"),
    ("s3://lake/x.csv?versionId=1", "'\\?'"), ("s3://lake/notes.docx", "cannot import"),
])
def test_bad_uris_are_refused_without_a_request(project, owner, s3, uri, message):
    client, stubber = s3
    with pytest.raises(UserError, match=message) as caught:
        dataset_import_s3(project=project, user=owner, uri=uri, client=client)
    assert caught.value.field == "uri"


def test_only_listed_buckets_when_an_admin_lists_them(project, owner, s3, settings):
    client, _ = s3
    settings.IMPORT_S3_BUCKETS = ["lake"]
    with pytest.raises(UserError, match="not one this studio may import from"):
        dataset_import_s3(project=project, user=owner, uri="s3://other/x.csv", client=client)


def test_s3_is_off_until_an_admin_configures_it(project, owner, settings, client):
    settings.IMPORT_S3_ENABLED = False
    with pytest.raises(UserError, match="not set up"):
        dataset_import_s3(project=project, user=owner, uri="s3://lake/x.csv")
    client.force_login(owner)
    assert "Importing from S3 is not set up" in client.get("/p/alpha/data/import/?source=s3").content.decode()
