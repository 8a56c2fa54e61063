import pytest
from django.urls import reverse

from apps.core.navigation import AREAS


def test_healthz_answers_without_login_and_reports_database_and_redis(client, db):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    # No worker runs in this test, so the studio says it is degraded rather than pretending.
    assert body["checks"]["workers"]["count"] == 0
    assert body["status"] == "degraded"


def test_healthz_reports_down_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_navigation_lists_every_area_and_unbuilt_areas_say_so(client, project, make_user):
    owner = project.memberships.get().user
    client.force_login(owner)
    page = client.get(reverse("datasets:list", kwargs={"project": project.slug})).content.decode()
    for label in ["Data", "Labeling", "Features", "Training", "Experiments", "Models", "Endpoints",
                  "Monitoring", "Pipelines", "Jobs"]:
        assert f">{label}</a>" in page
    for area in AREAS:
        if area.built:
            continue
        response = client.get(reverse("core:area", kwargs={"project": project.slug, "area": area.slug}))
        assert response.status_code == 200
        assert "Not built yet" in response.content.decode()


def test_unknown_area_is_a_friendly_404(client, project):
    client.force_login(project.memberships.get().user)
    response = client.get(reverse("core:area", kwargs={"project": project.slug, "area": "nope"}))
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.parametrize("role", ["admin", "labeler"])
def test_switch_project_only_to_projects_you_are_in(client, project, member, make_user, role):
    from apps.core.services import project_create

    user = member(role)
    other = project_create(name="Other", user=make_user("stranger"))
    client.force_login(user)
    assert client.get(reverse("core:switch-project"), {"project": project.slug}).status_code == 302
    assert client.get(reverse("core:switch-project"), {"project": other.slug}).status_code == 404
