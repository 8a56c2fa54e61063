"""Reads for datasets, scoped to the user's projects; and the data table's pages, served from a
memory-mapped Arrow copy of the version so a page never reads the whole Parquet file."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db.models import QuerySet

from apps.core.artifacts import ArtifactCorrupted, artifact_path
from apps.core.errors import Conflict, NotFound, UserError
from apps.core.files import safe_path
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list
from engine.datasets import table_view

from .models import Dataset, DatasetVersion

PAGE_SIZES = (25, 50, 100, 250, 500)
DEFAULT_PAGE_SIZE = 50


def dataset_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[Dataset]:
    datasets = Dataset.objects.filter(project__in=project_list(user=user)).select_related(
        "project", "created_by", "current_version", "last_job"
    )
    if project is not None:
        datasets = datasets.filter(project=project)
    return datasets


def dataset_get(*, user: AnyUser, dataset_id: int, project: Project | None = None) -> Dataset:
    dataset = dataset_list(user=user, project=project).filter(id=dataset_id).first()
    if dataset is None:
        raise NotFound("There is no such dataset, or it belongs to a project you are not a member of.")
    return dataset


def version_list(*, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset.versions.select_related("parquet", "source", "parent", "job", "created_by").order_by("-number")


def version_get(*, dataset: Dataset, number: int | None = None) -> DatasetVersion:
    """A version by number, or the current one."""
    if number is None:
        if dataset.current_version_id is None:
            raise Conflict("This dataset has no version yet: its import has not finished, or it failed.")
        number = dataset.current_version.number
    version = dataset.versions.select_related("parquet").filter(number=number).first()
    if version is None:
        raise NotFound(f"Dataset '{dataset.name}' has no version {number}.")
    return version


# --- the data table ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TablePage:
    version: DatasetVersion
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    page: int
    page_size: int
    pages: int
    total: int
    sort: str
    descending: bool

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return min(self.page * self.page_size, self.total)


def _cache_file(version: DatasetVersion, suffix: str) -> Path:
    sha = version.parquet.sha256
    return safe_path(settings.CACHE_ROOT, "datasets", sha[:2], f"{sha}{suffix}")


def _open_table(version: DatasetVersion):
    ipc = _cache_file(version, ".arrow")
    if not ipc.exists():
        try:
            # The Parquet file is checked against its sha256 once, when its cached copy is made.
            parquet = artifact_path(version.parquet, verify=True)
        except ArtifactCorrupted:
            raise Conflict("This version's file no longer matches its checksum, so it is not shown. An admin "
                           "should restore it.") from None
        try:
            table_view.ipc_build(parquet, ipc)
        except (pa.ArrowException, OSError) as error:
            raise Conflict(f"This version's file cannot be read ({type(error).__name__}).") from None
    return table_view.ipc_open(ipc)


def parse_paging(params: Any) -> dict[str, Any]:
    """page, page_size, sort, desc from a query dict, with friendly errors for nonsense."""
    def number(key: str, default: int) -> int:
        value = str(params.get(key) or default).strip()
        if not value.isdigit() or int(value) < 1:
            raise UserError(f"'{key}' must be a whole number of at least 1.", field=key)
        return int(value)

    size = number("page_size", DEFAULT_PAGE_SIZE)
    if size > PAGE_SIZES[-1]:
        raise UserError(f"'page_size' may be at most {PAGE_SIZES[-1]}.", field="page_size")
    desc = str(params.get("desc") or "").lower() in ("1", "true", "yes", "on")
    return {"page": number("page", 1), "page_size": size, "sort": str(params.get("sort") or ""), "descending": desc}


def dataset_page(*, version: DatasetVersion, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE, sort: str = "",
                 descending: bool = False) -> TablePage:
    """One page of a version's rows, sorted by a column if asked (its order is computed once and cached)."""
    names = version.column_names
    if sort and sort not in names:
        raise UserError(f"There is no column called '{sort}' to sort by.", field="sort")
    table = _open_table(version)
    pages = max(1, math.ceil(version.row_count / page_size))
    page = min(page, pages)
    order = None
    if sort:
        column = names.index(sort)
        npy = _cache_file(version, f".c{column}.{'desc' if descending else 'asc'}.npy")
        order = table_view.sort_index(table, sort, descending, npy)
    chunk = table_view.page_of(table, start=(page - 1) * page_size, size=page_size, order=order)
    rows = [{"number": number, "values": values, "cells": [table_view.display_cell(v) for v in values]}
            for number, values in zip(chunk.row_numbers, chunk.values, strict=True)]
    return TablePage(version=version, columns=version.schema, rows=rows, page=page, page_size=page_size,
                     pages=pages, total=version.row_count, sort=sort, descending=descending)


def version_csv(*, version: DatasetVersion) -> Iterator[bytes]:
    try:
        return table_view.csv_chunks(artifact_path(version.parquet, verify=True))
    except ArtifactCorrupted:
        raise Conflict("This version's file no longer matches its checksum, so it is not served.") from None
    except (pa.ArrowException, OSError) as error:
        raise Conflict(f"This version's file cannot be read ({type(error).__name__}).") from None


def version_parquet_path(*, version: DatasetVersion) -> Path:
    try:
        return artifact_path(version.parquet, verify=True)
    except ArtifactCorrupted:
        raise Conflict("This version's file no longer matches its checksum, so it is not served.") from None
