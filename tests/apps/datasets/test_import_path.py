"""Importing a file from a server directory an admin allowed (STUDIO_IMPORT_PATHS), and nothing else."""

import os

import pytest

from apps.core.errors import UserError
from apps.core.models import Artifact, JobStatus
from apps.datasets.models import Dataset
from apps.datasets.sources import dataset_import_path
from engine.datasets.paths import PathRefused, resolve_allowed

from .conftest import PEOPLE_CSV


@pytest.fixture
def tree(tmp_path):
    """allowed/ with people.csv and sub/more.csv; outside/ with secret.csv; links that lead out."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "sub").mkdir(parents=True)
    outside.mkdir()
    (allowed / "people.csv").write_bytes(PEOPLE_CSV)
    (allowed / "sub" / "more.csv").write_bytes(PEOPLE_CSV)
    (outside / "secret.csv").write_bytes(b"password\nhunter2\n")
    os.symlink(outside / "secret.csv", allowed / "link.csv")
    os.symlink(outside, allowed / "door")
    os.symlink(allowed / "people.csv", allowed / "inside-link.csv")
    return allowed, outside


TRAVERSALS = [
    ("../outside/secret.csv", "'..'"),
    ("sub/../../outside/secret.csv", "'..'"),
    ("{allowed}/../outside/secret.csv", "'..'"),
    ("{outside}/secret.csv", "outside the directories"),
    ("/etc/passwd", "outside the directories"),
    ("link.csv", "outside the directories"),
    ("door/secret.csv", "outside the directories"),
    ("{allowed}/door/secret.csv", "outside the directories"),
    ("people.csv\x00.txt", "NUL or control"),
    ("%2e%2e/outside/secret.csv", "percent-encoded"),
    ("..%2foutside%2fsecret.csv", "percent-encoded"),
    ("%252e%252e/secret.csv", "percent-encoded"),
    ("..\\outside\\secret.csv", "not \\\\"),
    ("~/secret.csv", "'~'"),
    ("", "Give the path"),
    ("sub", "not a regular file"),
    ("missing.csv", "There is no file"),
]


@pytest.mark.parametrize(("path", "message"), TRAVERSALS)
def test_paths_that_leave_the_allowed_directories_are_refused(tree, path, message):
    allowed, outside = tree
    with pytest.raises(PathRefused, match=message):
        resolve_allowed(path.format(allowed=allowed, outside=outside), [str(allowed)])


def test_allowed_files_resolve_relative_absolute_and_through_inner_links(tree):
    allowed, _ = tree
    assert resolve_allowed("people.csv", [allowed]) == allowed / "people.csv"
    assert resolve_allowed(str(allowed / "sub" / "more.csv"), [allowed]) == allowed / "sub" / "more.csv"
    assert resolve_allowed("inside-link.csv", [allowed]) == allowed / "people.csv"


def test_with_no_allowed_directory_the_source_is_off(tree):
    with pytest.raises(PathRefused, match="turned off"):
        resolve_allowed("people.csv", [])


def test_an_allowed_file_is_imported_like_an_upload(project, owner, tree, settings, run_job):
    allowed, _ = tree
    settings.IMPORT_PATHS = [str(allowed)]
    dataset = dataset_import_path(project=project, user=owner, path="sub/more.csv", name="more")
    assert run_job(dataset.last_job).status == JobStatus.COMPLETED
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.row_count == 4 and version.origin == "server_path"
    assert version.origin_detail == {"path": str(allowed / "sub" / "more.csv")}
    assert version.source.name == "more.csv"


def test_a_refused_path_saves_nothing_and_points_at_the_field(project, owner, tree, settings):
    allowed, _ = tree
    settings.IMPORT_PATHS = [str(allowed)]
    with pytest.raises(UserError, match="outside the directories") as caught:
        dataset_import_path(project=project, user=owner, path="link.csv")
    assert caught.value.field == "path"
    assert not Dataset.objects.exists() and not Artifact.objects.exists()


def test_the_import_page_says_plainly_when_server_paths_are_off(client, owner, project, settings):
    settings.IMPORT_PATHS = []
    client.force_login(owner)
    page = client.get("/p/alpha/data/import/?source=path").content.decode()
    assert "Importing from server paths is turned off" in page and "STUDIO_IMPORT_PATHS" in page


def test_the_import_page_form_shows_a_refusal_inline(client, owner, project, tree, settings):
    allowed, _ = tree
    settings.IMPORT_PATHS = [str(allowed)]
    client.force_login(owner)
    response = client.post("/p/alpha/data/import/path/", {"path": "../outside/secret.csv", "encoding": "utf-8",
                                                          "header_row": 1})
    assert response.status_code == 400
    assert "may not contain &#x27;..&#x27;" in response.content.decode()
    response = client.post("/p/alpha/data/import/path/", {"path": "people.csv", "encoding": "utf-8", "header_row": 1})
    assert response.status_code == 302 and Dataset.objects.get().name == "people"
