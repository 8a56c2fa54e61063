"""/api/v1/artifacts/<uuid>/ and its download: metadata, attachment with nosniff, checksum, and scoping."""

import uuid

import pytest

from apps.core.artifacts import artifact_path, artifact_put_bytes
from apps.core.roles import Role
from apps.core.services import project_create


@pytest.fixture(autouse=True)
def own_store(settings, tmp_path):
    """A store of this test's own: these tests corrupt blobs on purpose."""
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"

@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def artifact(project, owner):
    return artifact_put_bytes(data=b"<script>alert(1)</script>\n", project=project, name="../../etc/passwd<b>.html",
                              media_type="text/html", kind="upload", user=owner)


def test_metadata_describes_the_file(api_client, owner, artifact):
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/artifacts/{artifact.uuid}/").json()
    assert body["uuid"] == str(artifact.uuid) and body["project"] == "alpha"
    assert body["size"] == artifact.size and body["sha256"] == artifact.sha256 and body["created_by"] == "owner"


def test_download_is_an_attachment_that_browsers_never_sniff_or_render(api_client, owner, artifact):
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/v1/artifacts/{artifact.uuid}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>\n"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "/" not in response["Content-Disposition"] and "<" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"


def test_a_member_with_any_role_may_download(api_client, member, artifact):
    api_client.force_authenticate(member(Role.LABELER))
    assert api_client.get(f"/api/v1/artifacts/{artifact.uuid}/download/").status_code == 200


def test_anonymous_gets_401(api_client, artifact):
    assert api_client.get(f"/api/v1/artifacts/{artifact.uuid}/").status_code == 401
    assert api_client.get(f"/api/v1/artifacts/{artifact.uuid}/download/").status_code == 401


def test_a_foreign_projects_artifact_answers_404(api_client, make_user, artifact):
    stranger = make_user("stranger")
    project_create(name="Beta", user=stranger)
    api_client.force_authenticate(stranger)
    assert api_client.get(f"/api/v1/artifacts/{artifact.uuid}/").status_code == 404
    response = api_client.get(f"/api/v1/artifacts/{artifact.uuid}/download/")
    assert response.status_code == 404 and b"alert" not in response.content


def test_an_unknown_id_answers_404(api_client, owner):
    api_client.force_authenticate(owner)
    assert api_client.get(f"/api/v1/artifacts/{uuid.uuid4()}/download/").status_code == 404


def test_a_corrupted_file_is_refused_with_a_clear_message_not_served(api_client, owner, artifact):
    path = artifact_path(artifact)
    path.write_bytes(b"tampered")
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/v1/artifacts/{artifact.uuid}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "artifact_corrupted"
    assert "no longer matches its checksum" in response.json()["error"]["message"]


@pytest.mark.parametrize("payload", [
    "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..\\..\\windows",
    "/etc/passwd", "%2Fetc%2Fpasswd", "abc%00def", "x#../../etc/passwd", "00000000-0000-0000-0000-000000000000",
    "------------------------------------",
])
def test_traversal_payloads_in_the_download_route_answer_404(api_client, owner, artifact, payload):
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/v1/artifacts/{payload}/download/")
    assert response.status_code == 404
    assert b"root:" not in response.content
