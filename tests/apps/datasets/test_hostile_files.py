"""Every broken or hostile file from the corpus, uploaded through the page: the job fails with the right
message, the dataset shows it, nothing is half-saved, nothing is unpickled, and no page answers 500."""

import os

import pytest
from django.test import override_settings

from apps.core.models import Artifact, JobStatus
from apps.datasets.models import Dataset, DatasetStatus, DatasetVersion
from tests.engine.datasets.corpus import BAD_FILES, TEST_LIMITS

CANARY = "/tmp/studio-unpickle-canary"
CAPS = {"MAX_DATASET_ROWS": TEST_LIMITS.max_rows, "MAX_DATASET_COLUMNS": TEST_LIMITS.max_columns,
        "MAX_CELL_CHARS": TEST_LIMITS.max_cell_chars, "MAX_DECOMPRESSION_RATIO": TEST_LIMITS.max_decompression_ratio}


@override_settings(**CAPS)
@pytest.mark.parametrize(("case", "filename", "data", "options", "words"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_fails_its_import_with_a_clear_message_and_leaves_no_version(
    client, project, owner, run_job, case, filename, data, options, words, tmp_path
):
    if os.path.exists(CANARY):
        os.unlink(CANARY)
    client.force_login(owner)
    upload = tmp_path / filename
    upload.write_bytes(data)
    with open(upload, "rb") as handle:
        response = client.post(f"/p/{project.slug}/data/upload/", {"file": handle, "name": case, **options})
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get(name=case)
    job = run_job(dataset.last_job)
    assert job.status == JobStatus.FAILED
    for word in words:
        assert word in job.error
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.FAILED and dataset.error == job.error
    assert DatasetVersion.objects.count() == 0
    assert not Artifact.objects.filter(kind="dataset").exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "The import failed" in html and "Upload again" in html and "Delete this dataset" in html
    assert words[0].replace("'", "&#x27;") in html
    api = client.get(f"/api/v1/datasets/{dataset.id}/")
    assert api.json()["status"] == "failed" and words[0] in api.json()["error"]
    assert not os.path.exists(CANARY)


@pytest.mark.parametrize(("filename", "words"), [
    ("old.xls", "Old Excel files (.xls"),
    ("notes.docx", "'.docx', which the studio cannot import"),
    ("model.pkl", "Pickle files are never loaded"),
    ("noextension", "no extension"),
])
def test_an_unsupported_file_type_is_refused_inline_on_the_upload_form(client, project, owner, upload_file,
                                                                      filename, words):
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": upload_file(filename, b"\x80\x04junk")})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist"' in html and words.replace("'", "&#x27;") in html
    assert not Dataset.objects.exists() and not Artifact.objects.exists()


@override_settings(MAX_UPLOAD_BYTES=1024, MAX_UPLOAD_MB=0)
def test_a_file_over_the_upload_limit_is_stopped_with_a_message(client, project, owner, upload_file):
    client.force_login(owner)
    big = upload_file("big.csv", b"a,b\n" + b"1,2\n" * 2000)
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": big})
    assert response.status_code == 400
    assert "larger than this studio&#x27;s upload limit" in response.content.decode()
    assert not Dataset.objects.exists() and not Artifact.objects.exists()
