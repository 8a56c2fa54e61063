"""Every version records where its rows came from; the dataset page and the API show it."""

import importlib

import pandas as pd
from django.apps import apps

from apps.datasets.models import DatasetVersion
from apps.datasets.services import dataset_cast_start, dataset_import_dataframe


def test_an_uploaded_version_records_the_file_name(ready_dataset):
    version = ready_dataset.current_version
    assert version.origin == "upload" and version.origin_detail == {"file_name": "people.csv"}


def test_a_type_change_records_its_parent_and_the_types(ready_dataset, owner, run_job):
    run_job(dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "string"}))
    ready_dataset.refresh_from_db()
    version = ready_dataset.current_version
    assert version.origin == "cast" and version.parent.number == 1
    assert version.origin_detail == {"from_version": 1, "types": {"id": "string"}}


def test_a_data_frame_import_is_recorded_as_demo_data(project, owner):
    dataset = dataset_import_dataframe(project=project, user=owner, name="tiny", frame=pd.DataFrame({"x": [1, 2]}))
    assert dataset.current_version.origin == "demo"


def test_the_migration_fills_versions_made_before_lineage(ready_dataset, owner, run_job):
    run_job(dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "string"}))
    DatasetVersion.objects.update(origin="flow", origin_detail={})
    migration = importlib.import_module("apps.datasets.migrations.0002_lineage_and_connections")
    migration.fill_origins(apps, None)
    origins = dict(DatasetVersion.objects.values_list("number", "origin"))
    assert origins == {1: "upload", 2: "cast"}
    assert DatasetVersion.objects.get(number=1).origin_detail == {"file_name": "people.csv"}


def test_the_versions_section_lists_every_version_with_its_origin_and_parent(client, owner, ready_dataset, run_job):
    run_job(dataset_cast_start(dataset=ready_dataset, user=owner, types={"id": "string"}))
    client.force_login(owner)
    page = client.get(f"/p/alpha/data/{ready_dataset.id}/?version=1").content.decode()
    section = page[page.index('id="versions"'):]
    assert "Uploaded file" in section and "Type change" in section and "people.csv" in section
    assert "4 × 6" in section and 'href="?version=1">v1</a>' in section
    assert "/versions/1/download/?format=csv" in section and "/versions/2/download/?format=parquet" in section
    assert "of version 1 (not the current one)" in page


def test_the_api_lists_versions_with_origin_fields(api_client, owner, ready_dataset):
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/versions/").json()
    assert body[0]["origin"] == "upload" and body[0]["origin_detail"] == {"file_name": "people.csv"}
