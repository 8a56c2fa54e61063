"""The Users page and the audit log page, for studio administrators only."""

import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.core.audit import audit_record
from apps.core.models import AuditEvent

User = get_user_model()


def test_a_site_admin_creates_a_user_with_a_generated_password_shown_once(client, make_user):
    client.force_login(make_user("root", superuser=True))
    response = client.post(reverse("accounts:users"), {"username": "newbie", "email": "n@example.org"})
    page = response.content.decode()
    password = re.search(r'id="new-user-password">([^<]+)<', page).group(1)
    assert User.objects.get(username="newbie").check_password(password)
    assert password not in client.get(reverse("accounts:users")).content.decode()


def test_a_weak_initial_password_is_refused_inline(client, make_user):
    client.force_login(make_user("root", superuser=True))
    response = client.post(reverse("accounts:users"), {"username": "newbie", "password": "newbie123"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_a_deactivated_user_cannot_sign_in_until_reactivated(client, make_user):
    ada = make_user("ada")
    client.force_login(make_user("root", superuser=True))
    client.post(reverse("accounts:user-active", kwargs={"user_id": ada.id}), {"active": "0"})
    client.post(reverse("accounts:logout"))
    login = {"username": "ada", "password": "a-long-test-password"}
    assert client.post(reverse("accounts:login"), login).status_code == 200
    ada.refresh_from_db()
    assert ada.is_active is False
    ada.is_active = True
    ada.save()
    assert client.post(reverse("accounts:login"), login).status_code == 302


def test_users_and_audit_pages_are_for_site_admins_only(client, project, member):
    client.force_login(member("admin", "projectadmin"))
    assert client.get(reverse("accounts:users")).status_code == 403
    assert client.post(reverse("accounts:users"), {"username": "sneaky"}).status_code == 403
    assert client.get(reverse("accounts:audit")).status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_the_audit_log_lists_and_filters_events(client, project, make_user):
    root = make_user("root", superuser=True)
    audit_record(actor=root, action="dataset.delete", summary="Deleted iris", project=project)
    audit_record(actor=root, action="user.create", summary="Created user bob")
    client.force_login(root)
    page = client.get(reverse("accounts:audit")).content.decode()
    assert "Deleted iris" in page and "Created user bob" in page
    filtered = client.get(reverse("accounts:audit"), {"project": "alpha", "action": "dataset"}).content.decode()
    assert "Deleted iris" in filtered and "Created user bob" not in filtered
    assert "Created user bob" not in client.get(reverse("accounts:audit"), {"user": "nobody"}).content.decode()


def test_the_audit_log_is_paginated(client, make_user):
    root = make_user("root", superuser=True)
    AuditEvent.objects.bulk_create(AuditEvent(actor_name="root", action=f"thing.{i}") for i in range(120))
    client.force_login(root)
    page = client.get(reverse("accounts:audit"), {"action": "thing"}).content.decode()
    assert "Page 1 of 3" in page and "120 events" in page
    assert "page=2" in page and "action=thing" in page
    assert "Page 3 of 3" in client.get(reverse("accounts:audit"), {"action": "thing", "page": 3}).content.decode()


def test_writes_in_the_ui_are_audited(client, project, make_user):
    make_user("newcomer")
    owner = project.memberships.get().user
    client.force_login(owner)
    client.post(reverse("accounts:member-add", kwargs={"project": "alpha"}),
                {f"p{project.id}-username": "newcomer", f"p{project.id}-role": "labeler"})
    event = AuditEvent.objects.get(action="accounts:member-add")
    assert event.actor == owner and event.project == project
    assert event.summary == "newcomer is now Labeler in Alpha"
