"""The Role Manager: the matrix, and members and roles per project for the people allowed to manage them."""

import pytest
from django.urls import reverse

from apps.core.models import Membership, Project
from apps.core.services import project_create


def _url(name, project, **kwargs):
    return reverse(f"accounts:{name}", kwargs={"project": project.slug, **kwargs})


def test_the_matrix_shows_each_role_and_activity(client, make_user):
    client.force_login(make_user("ada"))
    page = client.get(reverse("accounts:roles")).content.decode()
    assert 'class="matrix"' in page
    for label in ["Admin", "Data Scientist", "ML Engineer", "Analyst", "Labeler", "Approve models",
                  "Deploy endpoints", "Run custom code", "Manage users and roles"]:
        assert label in page
    # Labeler: view and label only (2 of 10 activities); Admin: all 10.
    assert page.count('class="yes"') == 10 + 7 + 8 + 4 + 2


def test_a_project_admin_sees_their_projects_members_only(client, project, member, make_user):
    member("labeler", "lena")
    project_create(name="Secret", user=make_user("someone"))
    client.force_login(project.memberships.get(role="admin").user)
    page = client.get(reverse("accounts:roles")).content.decode()
    assert "Alpha" in page and "lena" in page
    assert "Secret" not in page and "someone" not in page


def test_people_who_cannot_manage_users_see_no_projects(client, project, member):
    client.force_login(member("ml_engineer", "mel"))
    page = client.get(reverse("accounts:roles")).content.decode()
    assert "You do not manage any project" in page
    assert "add-member" not in page


def test_a_site_admin_sees_every_project(client, project, make_user):
    project_create(name="Beta", user=make_user("b-owner"))
    client.force_login(make_user("root", superuser=True))
    page = client.get(reverse("accounts:roles")).content.decode()
    assert "Alpha" in page and "Beta" in page


def test_an_admin_adds_a_member_with_a_role(client, project, make_user):
    make_user("newcomer")
    client.force_login(project.memberships.get().user)
    response = client.post(_url("member-add", project), {f"p{project.id}-username": "newcomer",
                                                        f"p{project.id}-role": "analyst"}, follow=True)
    assert "newcomer is now Analyst in Alpha." in response.content.decode()
    assert Membership.objects.get(user__username="newcomer").role == "analyst"


def test_adding_an_unknown_user_shows_the_error_in_the_form(client, project):
    client.force_login(project.memberships.get().user)
    response = client.post(_url("member-add", project), {f"p{project.id}-username": "ghost",
                                                        f"p{project.id}-role": "analyst"})
    assert response.status_code == 400
    assert "There is no active user named &#x27;ghost&#x27;." in response.content.decode()


def test_an_admin_changes_a_role_and_removes_a_member(client, project, member):
    lena = member("labeler", "lena")
    client.force_login(project.memberships.get(role="admin").user)
    client.post(_url("member-role", project, user_id=lena.id), {"role": "data_scientist"})
    assert Membership.objects.get(user=lena).role == "data_scientist"
    response = client.post(_url("member-remove", project, user_id=lena.id), follow=True)
    assert "Removed lena from Alpha." in response.content.decode()
    assert not Membership.objects.filter(user=lena).exists()


def test_the_last_admin_cannot_be_demoted_or_removed(client, project):
    owner = project.memberships.get().user
    client.force_login(owner)
    demote = client.post(_url("member-role", project, user_id=owner.id), {"role": "analyst"})
    assert demote.status_code == 409
    assert "needs at least one Admin" in demote.content.decode()
    assert client.post(_url("member-remove", project, user_id=owner.id)).status_code == 409
    assert Membership.objects.get(user=owner).role == "admin"


@pytest.mark.parametrize("role", ["data_scientist", "ml_engineer", "analyst", "labeler"])
def test_roles_without_manage_users_get_403(client, project, member, role):
    victim = member("labeler", "victim") if role != "labeler" else member("analyst", "victim")
    client.force_login(member(role))
    assert client.post(_url("member-add", project), {f"p{project.id}-username": "victim"}).status_code == 403
    assert client.post(_url("member-role", project, user_id=victim.id), {"role": "admin"}).status_code == 403
    assert client.post(_url("member-remove", project, user_id=victim.id)).status_code == 403
    assert Membership.objects.get(user=victim).role in ("labeler", "analyst")


def test_an_admin_of_another_project_gets_404(client, project, member, make_user):
    other = project_create(name="Other", user=make_user("other-admin"))
    lena = member("labeler", "lena")
    client.force_login(other.memberships.get().user)
    assert client.post(_url("member-remove", project, user_id=lena.id)).status_code == 404
    assert Membership.objects.filter(user=lena).exists()


def test_a_site_admin_manages_members_of_a_project_they_are_not_in(client, project, make_user):
    make_user("newcomer")
    client.force_login(make_user("root", superuser=True))
    client.post(_url("member-add", project), {f"p{project.id}-username": "newcomer", f"p{project.id}-role": "admin"})
    assert Membership.objects.get(user__username="newcomer").role == "admin"


def test_a_site_admin_creates_a_project_and_becomes_its_admin(client, make_user):
    root = make_user("root", superuser=True)
    client.force_login(root)
    response = client.post(reverse("accounts:project-new"), {"name": "Fraud models", "description": "x"}, follow=True)
    assert "Created project Fraud models" in response.content.decode()
    assert Membership.objects.get(project__slug="fraud-models", user=root).role == "admin"


def test_a_duplicate_project_name_is_shown_in_the_form(client, project, make_user):
    client.force_login(make_user("root", superuser=True))
    response = client.post(reverse("accounts:project-new"), {"name": "Alpha"})
    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert Project.objects.count() == 1


def test_only_site_admins_create_projects(client, project):
    client.force_login(project.memberships.get().user)
    assert client.post(reverse("accounts:project-new"), {"name": "Mine"}).status_code == 403
    assert not Project.objects.filter(name="Mine").exists()
