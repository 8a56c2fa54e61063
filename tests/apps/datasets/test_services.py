"""Dataset services: upload → import job → version 1; casting; deletion; the demo loader's in-process import."""

import pandas as pd
import pytest

from apps.core.errors import Conflict, UserError
from apps.core.models import Artifact, Job, JobStatus
from apps.datasets.models import Dataset, DatasetStatus, DatasetVersion
from apps.datasets.services import (
    dataset_cast_start,
    dataset_delete,
    dataset_import_dataframe,
    dataset_reupload,
    dataset_upload,
)


def test_an_upload_saves_the_file_and_queues_an_import_job(project, owner, upload_file):
    dataset = dataset_upload(project=project, user=owner, upload=upload_file(), name="people")
    assert dataset.status == DatasetStatus.IMPORTING
    job = dataset.last_job
    assert job.kind == "dataset.import" and job.status == JobStatus.PENDING
    source = Artifact.objects.get(uuid=job.inputs["source"])
    assert source.kind == "upload" and source.name == "people.csv"
    assert job.inputs["format"] == "csv"


def test_the_import_job_makes_version_1_with_inferred_types_and_summaries(ready_dataset):
    version = ready_dataset.current_version
    assert ready_dataset.status == DatasetStatus.READY
    assert version.number == 1 and version.row_count == 4 and version.column_count == 6
    assert [(c["name"], c["type"]) for c in version.schema] == [
        ("id", "integer"), ("name", "string"), ("age", "integer"), ("score", "float"), ("member", "boolean"),
        ("joined", "datetime"),
    ]
    assert {c["name"]: c["nullable"] for c in version.schema}["age"] is True
    summary = {c["name"]: c for c in version.summary}
    assert summary["age"]["missing"] == 1 and summary["age"]["min"] == 29 and summary["age"]["max"] == 41
    assert summary["score"]["mean"] == pytest.approx(1.5)
    assert summary["name"]["distinct"] == 4 and summary["name"]["top"][0]["count"] == 1
    assert summary["joined"]["min"].startswith("2020-12-31")
    assert version.parquet.kind == "dataset" and version.source.name == "people.csv"
    job = Job.objects.get(id=version.job_id)
    assert job.status == JobStatus.COMPLETED and job.outputs["rows"] == 4
    assert job.logs.filter(message__contains="Saved version 1").exists()


def test_a_dataset_name_is_unique_in_its_project(project, owner, upload_file, ready_dataset):
    with pytest.raises(Conflict, match="exists already"):
        dataset_upload(project=project, user=owner, upload=upload_file(), name="people")


def test_an_unknown_extension_is_refused_before_anything_is_saved(project, owner, upload_file):
    with pytest.raises(UserError, match="cannot import"):
        dataset_upload(project=project, user=owner, upload=upload_file("notes.docx", b"hello"))
    with pytest.raises(UserError, match="xlsx"):
        dataset_upload(project=project, user=owner, upload=upload_file("old.xls", b"\xd0\xcf\x11\xe0"))
    assert not Dataset.objects.exists() and not Artifact.objects.exists()


def test_an_explicit_format_overrides_the_extension(project, owner, upload_file, run_job):
    dataset = dataset_upload(project=project, user=owner, upload=upload_file("export.dat", b"a;b\n1;2\n"),
                             file_format="csv", options={"delimiter": ";"})
    run_job(dataset.last_job)
    dataset.refresh_from_db()
    assert dataset.current_version.column_names == ["a", "b"]


def test_a_type_change_makes_a_new_version_with_lineage(ready_dataset, owner, run_job):
    job = dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "string", "score": "float"})
    assert job.inputs["types"] == {"id": "string"}  # unchanged columns are left out
    assert run_job(job).status == JobStatus.COMPLETED
    ready_dataset.refresh_from_db()
    v2 = ready_dataset.current_version
    assert v2.number == 2 and v2.parent.number == 1 and v2.job_id == job.id
    assert {c["name"]: c["type"] for c in v2.schema}["id"] == "string"
    assert {c["name"]: c["type"] for c in v2.parent.schema}["id"] == "integer"
    assert "id integer → string" in v2.note


def test_values_that_cannot_be_cast_fail_the_job_with_examples_and_make_no_version(ready_dataset, owner, run_job):
    job = run_job(dataset_cast_start(dataset=ready_dataset, user=owner, types={"name": "integer"}))
    assert job.status == JobStatus.FAILED
    assert "Column 'name' cannot become integer" in job.error
    assert "'Ann' (row 1)" in job.error and "'=SUM(A1)' (row 2)" in job.error
    ready_dataset.refresh_from_db()
    assert ready_dataset.current_version.number == 1 and ready_dataset.status == DatasetStatus.READY
    assert DatasetVersion.objects.count() == 1


def test_a_type_change_with_nothing_changed_is_refused(ready_dataset, owner):
    with pytest.raises(UserError, match="No column type was changed"):
        dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "integer"})
    with pytest.raises(UserError, match="no column called"):
        dataset_cast_start(dataset=ready_dataset, user=owner, types={"nope": "integer"})


def test_a_failed_import_can_take_a_corrected_file(project, owner, upload_file, run_job):
    dataset = dataset_upload(project=project, user=owner, upload=upload_file("p.csv", b"a,b\n1,2,3\n"))
    run_job(dataset.last_job)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.FAILED and "Row 2 has 3 fields" in dataset.error
    dataset_reupload(dataset=dataset, user=owner, upload=upload_file("p.csv", b"a,b\n1,2\n"))
    run_job(Dataset.objects.get(id=dataset.id).last_job)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.READY and dataset.error == "" and dataset.current_version.number == 1


def test_deleting_a_dataset_removes_its_versions_and_registered_files(ready_dataset, owner):
    dataset_delete(dataset=ready_dataset, user=owner)
    assert not Dataset.objects.exists() and not DatasetVersion.objects.exists()
    assert not Artifact.objects.exists()


def test_the_demo_loader_import_runs_the_job_in_process_and_completes_it(project, owner):
    frame = pd.DataFrame({"species": ["Adelie", "Gentoo", None], "mass": [3750.0, None, 5000.0], "year": [2007, 2008, 2009]})
    dataset = dataset_import_dataframe(project=project, user=owner, name="penguins", frame=frame, description="Birds")
    assert dataset.status == DatasetStatus.READY and dataset.description == "Birds"
    job = Job.objects.get(id=dataset.last_job_id)
    assert job.status == JobStatus.COMPLETED and job.kind == "dataset.import"
    assert job.logs.filter(message__contains="Saved version 1").exists()
    assert [c["type"] for c in dataset.current_version.schema] == ["string", "float", "integer"]
    assert dataset.current_version.row_count == 3


@pytest.mark.django_db(transaction=True)
def test_the_demo_loader_import_outside_a_transaction_runs_before_any_worker_could(make_user):
    from apps.core.services import project_create

    user = make_user("loader")
    project = project_create(name="Demo", user=user)
    dataset = dataset_import_dataframe(project=project, user=user, name="tiny", frame=pd.DataFrame({"x": [1, 2]}))
    job = Job.objects.get(id=dataset.last_job_id)
    assert job.status == JobStatus.COMPLETED and dataset.current_version.row_count == 2
