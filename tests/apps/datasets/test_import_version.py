"""Copying a version of a dataset, or some of its columns, into a new dataset."""

import pytest

from apps.core.errors import Conflict, UserError
from apps.core.models import JobStatus
from apps.datasets.models import Dataset, DatasetStatus
from apps.datasets.services import dataset_cast_start
from apps.datasets.sources import dataset_import_version


def test_a_column_subset_becomes_version_1_of_a_new_dataset_that_records_its_origin(project, owner, ready_dataset,
                                                                                     run_job):
    source = ready_dataset.current_version
    dataset = dataset_import_version(project=project, user=owner, source=source, columns=["score", "name"])
    assert dataset.name == "people-v1-copy" and dataset.last_job.kind == "dataset.import_version"
    assert run_job(dataset.last_job).status == JobStatus.COMPLETED
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.number == 1 and version.column_names == ["score", "name"] and version.row_count == 4
    assert version.origin == "dataset_version" and version.parent is None
    assert version.origin_detail["dataset_id"] == ready_dataset.id and version.origin_detail["version"] == 1
    assert version.origin_detail["columns"] == ["score", "name"]


def test_an_older_version_can_be_copied_whole(project, owner, ready_dataset, run_job):
    run_job(dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "string"}))
    old = ready_dataset.versions.get(number=1)
    dataset = dataset_import_version(project=project, user=owner, source=old, name="old people")
    run_job(dataset.last_job)
    dataset.refresh_from_db()
    assert {c["name"]: c["type"] for c in dataset.current_version.schema}["id"] == "integer"
    assert dataset.current_version.column_count == 6


def test_unknown_or_repeated_columns_and_taken_names_are_refused(project, owner, ready_dataset):
    source = ready_dataset.current_version
    with pytest.raises(UserError, match="no column 'nope'") as caught:
        dataset_import_version(project=project, user=owner, source=source, columns=["id", "nope"])
    assert caught.value.field == "columns"
    with pytest.raises(UserError, match="twice"):
        dataset_import_version(project=project, user=owner, source=source, columns=["id", "id"])
    with pytest.raises(Conflict, match="exists already"):
        dataset_import_version(project=project, user=owner, source=source, name="people")
    assert Dataset.objects.count() == 1


def test_a_deleted_source_fails_the_job_with_a_reason(project, owner, ready_dataset, run_job):
    from apps.datasets.services import dataset_delete

    dataset = dataset_import_version(project=project, user=owner, source=ready_dataset.current_version, name="copy")
    dataset_delete(dataset=ready_dataset, user=owner)
    job = run_job(dataset.last_job)
    dataset.refresh_from_db()
    assert job.status == JobStatus.FAILED and "deleted" in job.error
    assert dataset.status == DatasetStatus.FAILED


def test_the_import_page_copies_from_a_dataset_of_the_project(client, owner, ready_dataset):
    client.force_login(owner)
    page = client.get("/p/alpha/data/import/?source=version").content.decode()
    assert "From another dataset" in page and ">people</option>" in page
    response = client.post("/p/alpha/data/import/version/", {"dataset": ready_dataset.id, "columns": "id, bogus"})
    assert response.status_code == 400 and "has no column &#x27;bogus&#x27;" in response.content.decode()
    response = client.post("/p/alpha/data/import/version/", {"dataset": ready_dataset.id, "columns": "id",
                                                             "name": "ids"})
    assert response.status_code == 302 and Dataset.objects.filter(name="ids").exists()
