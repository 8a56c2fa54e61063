"""/api/v1/projects/, members, the role matrix and the audit log."""

import pytest

from apps.core.audit import audit_record
from apps.core.models import Membership, Project
from apps.core.services import project_create

MEMBERS = "/api/v1/projects/alpha/members/"


def test_projects_list_shows_only_your_projects_with_your_role(api_client, project, member, make_user):
    project_create(name="Secret", user=make_user("someone"))
    api_client.force_authenticate(member("analyst", "ana"))
    body = api_client.get("/api/v1/projects/").json()
    assert [(row["slug"], row["role"]) for row in body["results"]] == [("alpha", "analyst")]


def test_project_detail_is_404_for_non_members(api_client, project, make_user):
    api_client.force_authenticate(make_user("stranger"))
    response = api_client.get("/api/v1/projects/alpha/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_project_detail_for_a_member(api_client, project, member):
    api_client.force_authenticate(member("labeler"))
    assert api_client.get("/api/v1/projects/alpha/").json()["name"] == "Alpha"


def test_a_site_admin_creates_a_project(api_client, make_user):
    api_client.force_authenticate(make_user("root", superuser=True))
    response = api_client.post("/api/v1/projects/", {"name": "Churn", "description": "models"})
    assert response.status_code == 201
    assert response.json() == {**response.json(), "slug": "churn", "role": "admin"}
    duplicate = api_client.post("/api/v1/projects/", {"name": "Churn"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["fields"] == {"name": [
        "A project with the address 'churn' exists already; choose another name."]}


def test_only_site_admins_create_projects(api_client, project):
    api_client.force_authenticate(project.memberships.get().user)
    assert api_client.post("/api/v1/projects/", {"name": "Mine"}).status_code == 403
    assert not Project.objects.filter(name="Mine").exists()


def test_projects_need_authentication(api_client, project):
    assert api_client.get("/api/v1/projects/").status_code == 401
    assert api_client.get("/api/v1/projects/alpha/").status_code == 401


@pytest.mark.parametrize("role", ["admin", "data_scientist", "ml_engineer", "analyst", "labeler"])
def test_every_member_lists_members(api_client, project, member, role):
    api_client.force_authenticate(member(role, "someone"))
    rows = api_client.get(MEMBERS).json()
    assert {(row["username"], row["role"]) for row in rows} == {("owner", "admin"), ("someone", role)}
    owner_id = project.memberships.get(user__username="owner").user_id
    assert api_client.get(f"{MEMBERS}{owner_id}/").json()["role_label"] == "Admin"


def test_members_of_a_foreign_project_are_404(api_client, project, make_user):
    api_client.force_authenticate(make_user("stranger"))
    owner_id = project.memberships.get().user_id
    assert api_client.get(MEMBERS).status_code == 404
    assert api_client.post(MEMBERS, {"username": "stranger", "role": "admin"}).status_code == 404
    assert api_client.patch(f"{MEMBERS}{owner_id}/", {"role": "labeler"}).status_code == 404
    assert api_client.delete(f"{MEMBERS}{owner_id}/").status_code == 404
    assert not Membership.objects.filter(user__username="stranger").exists()


def test_members_need_authentication(api_client, project):
    assert api_client.get(MEMBERS).status_code == 401
    assert api_client.post(MEMBERS, {"username": "x", "role": "admin"}).status_code == 401


def test_an_admin_adds_updates_and_removes_a_member(api_client, project, make_user):
    newcomer = make_user("newcomer")
    api_client.force_authenticate(project.memberships.get().user)
    added = api_client.post(MEMBERS, {"username": "newcomer", "role": "labeler"})
    assert added.status_code == 201 and added.json()["role"] == "labeler"
    assert api_client.patch(f"{MEMBERS}{newcomer.id}/", {"role": "ml_engineer"}).json()["role"] == "ml_engineer"
    assert api_client.put(f"{MEMBERS}{newcomer.id}/", {"role": "analyst"}).json()["role"] == "analyst"
    assert api_client.delete(f"{MEMBERS}{newcomer.id}/").status_code == 204
    assert not Membership.objects.filter(user=newcomer).exists()


def test_member_changes_are_validated(api_client, project, make_user):
    owner = project.memberships.get().user
    api_client.force_authenticate(owner)
    assert api_client.post(MEMBERS, {"username": "ghost", "role": "admin"}).status_code == 404
    bad_role = api_client.post(MEMBERS, {"username": "owner", "role": "king"})
    assert bad_role.status_code == 400 and "role" in bad_role.json()["error"]["fields"]
    last_admin = api_client.patch(f"{MEMBERS}{owner.id}/", {"role": "analyst"})
    assert last_admin.status_code == 409 and "at least one Admin" in last_admin.json()["error"]["message"]
    assert api_client.delete(f"{MEMBERS}{owner.id}/").status_code == 409
    assert api_client.delete(f"{MEMBERS}999999/").status_code == 404


@pytest.mark.parametrize("role", ["data_scientist", "ml_engineer", "analyst", "labeler"])
def test_roles_without_manage_users_cannot_change_members(api_client, project, member, make_user, role):
    make_user("newcomer")
    api_client.force_authenticate(member(role))
    owner_id = project.memberships.get(role="admin").user_id
    for response in [
        api_client.post(MEMBERS, {"username": "newcomer", "role": "admin"}),
        api_client.patch(f"{MEMBERS}{owner_id}/", {"role": "labeler"}),
        api_client.put(f"{MEMBERS}{owner_id}/", {"role": "labeler"}),
        api_client.delete(f"{MEMBERS}{owner_id}/"),
    ]:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert project.memberships.get(user_id=owner_id).role == "admin"


def test_a_site_admin_manages_members_of_any_project(api_client, project, make_user):
    make_user("newcomer")
    api_client.force_authenticate(make_user("root", superuser=True))
    assert api_client.post(MEMBERS, {"username": "newcomer", "role": "admin"}).status_code == 201


def test_the_role_matrix(api_client, make_user):
    api_client.force_authenticate(make_user("ada"))
    rows = {row["activity"]: row["roles"] for row in api_client.get("/api/v1/roles/").json()}
    assert rows["approve_models"] == {"admin": True, "data_scientist": False, "ml_engineer": True,
                                      "analyst": False, "labeler": False}
    assert rows["label"]["labeler"] is True and rows["manage_users"]["ml_engineer"] is False
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/roles/").status_code == 401


def test_the_audit_api_is_for_site_admins_and_filters(api_client, project, make_user):
    root = make_user("root", superuser=True)
    audit_record(actor=root, action="dataset.delete", summary="Deleted iris", project=project)
    audit_record(actor=make_user("bob"), action="user.create", summary="Created user")
    api_client.force_authenticate(root)
    everything = api_client.get("/api/v1/audit/").json()["results"]
    assert {row["action"] for row in everything} >= {"dataset.delete", "user.create", "project.create"}
    filtered = api_client.get("/api/v1/audit/", {"project": "alpha", "action": "dataset"}).json()["results"]
    assert [(row["actor_name"], row["summary"], row["project"]) for row in filtered] == [
        ("root", "Deleted iris", "alpha")]
    assert [row["actor_name"] for row in api_client.get("/api/v1/audit/", {"user": "bob"}).json()["results"]] == ["bob"]
    assert api_client.get(f"/api/v1/audit/{filtered[0]['id']}/").json()["summary"] == "Deleted iris"


def test_the_audit_api_refuses_everyone_else(api_client, project):
    assert api_client.get("/api/v1/audit/").status_code == 401
    api_client.force_authenticate(project.memberships.get().user)
    assert api_client.get("/api/v1/audit/").status_code == 403
