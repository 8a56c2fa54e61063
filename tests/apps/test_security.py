"""Secure defaults: production start-up refuses weak keys, `check --deploy` is clean, every page has a
nonce CSP without unsafe scripts, user-supplied names render escaped, sign-in is throttled, the API has one
error format and denies by default."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.permissions import IsAuthenticated
from rest_framework.settings import api_settings

from apps.core.services import project_create
from tests.apps.test_url_permissions import World, all_routes, build_kwargs
from tests.apps.test_url_permissions import world as world  # noqa: F401 - the fixture, shared

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "STUDIO_PRODUCTION": "1",
    "STUDIO_ALLOWED_HOSTS": "studio.example.org",
    "STUDIO_HTTPS": "1",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("STUDIO_")}
    clean.update({"DJANGO_SETTINGS_MODULE": "studio.settings", "STUDIO_VAR_DIR": str(settings.VAR_DIR / "prod-check"),
                  "PYTHONPATH": str(ROOT)})
    clean.pop("PYTEST_VERSION", None)
    clean.update(env)
    return subprocess.run(args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    code = "import django; from django.conf import settings; django.setup(); print(settings.DEBUG)"
    return _run([sys.executable, "-c", code], **env)


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key():
    result = _load_settings(**PRODUCTION_ENV)
    assert result.returncode != 0
    assert "STUDIO_SECRET_KEY is not set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("key, reason", [
    ("django-insecure-" + "x1y2z3" * 10, "contains the word 'insecure'"),
    ("short-but-random-Q8v", "is shorter than 50 characters"),
    ("a" * 60, "fewer than 5 distinct characters"),
    ("changeme" + secrets.token_hex(30), "contains the word 'changeme'"),
])
def test_production_refuses_a_weak_secret_key(key, reason):
    result = _load_settings(**PRODUCTION_ENV, STUDIO_SECRET_KEY=key)
    assert result.returncode != 0
    assert reason in result.stderr and "refusing to start in production" in result.stderr


@pytest.mark.slow
def test_production_starts_with_a_strong_key_and_debug_off():
    result = _load_settings(**PRODUCTION_ENV, STUDIO_SECRET_KEY=secrets.token_urlsafe(64), STUDIO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  **PRODUCTION_ENV, STUDIO_SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _html_pages(world: World):
    for route in all_routes():
        if hasattr(route.pattern.callback, "cls") or route.name in {"accounts:logout", "healthz"}:
            continue
        kwargs, _ = build_kwargs(route, world, "admin")
        yield route.name, reverse(route.name, kwargs=kwargs)


def test_every_html_page_has_a_nonce_csp_without_unsafe_scripts(world):
    # Server errors are the permission test's business; here even an error page must carry the policy.
    client = Client(raise_request_exception=False)
    client.force_login(world.users["admin"])
    checked = 0
    for name, url in _html_pages(world):
        response = client.get(url, follow=True)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        checked += 1
        policy = response.get("Content-Security-Policy", "")
        script_src = re.search(r"script-src ([^;]+)", policy)
        assert script_src, f"{name}: no script-src in {policy!r}"
        assert re.search(r"'nonce-[\w-]{16,}'", script_src.group(1)), f"{name}: no nonce"
        assert "unsafe-inline" not in script_src.group(1) and "unsafe-eval" not in script_src.group(1), name
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
        # No inline executable script on the page: only src= scripts and JSON data blocks.
        for tag in re.findall(r"<script\b[^>]*>", response.content.decode()):
            assert "src=" in tag or 'type="application/json"' in tag, f"{name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+=", response.content.decode()), f"{name}: an on* attribute"
    assert checked >= 10


def test_the_sign_in_page_has_the_csp_too(client, db):
    response = client.get(reverse("accounts:login"))
    assert "'nonce-" in response["Content-Security-Policy"]


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_project_names_and_usernames_render_escaped(client, make_user):
    root = make_user("root", superuser=True)
    project = project_create(name=f"P {XSS}", user=root, slug="hostile")
    evil = make_user("evil<b>")
    evil.first_name = XSS
    evil.email = "x@example.org"
    evil.save()
    from apps.core.services import membership_set

    membership_set(project=project, user=evil, role="labeler", actor=root)
    client.force_login(root)
    for url in [reverse("core:home"), reverse("accounts:roles"), reverse("accounts:users"),
                reverse("accounts:audit"), reverse("accounts:profile"),
                reverse("datasets:list", kwargs={"project": "hostile"})]:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page and "evil<b>" not in page, url
    roles_page = client.get(reverse("accounts:roles")).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in roles_page
    assert "evil&lt;b&gt;" in roles_page


def test_sign_in_answers_429_after_the_failure_limit(client, make_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    make_user("ada")
    wrong = {"username": "ada", "password": "not-the-password"}
    assert [client.post(reverse("accounts:login"), wrong).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/v1/projects/", 401),
    ("get", "/api/v1/projects/nope/", 404),
    ("post", "/api/v1/users/", 403),
    ("post", "/api/v1/tokens/", 400),
    ("delete", "/api/v1/roles/", 405),
    ("get", "/api/v1/no-such-route/", 404),
])
def test_api_errors_use_the_one_json_format(api_client, make_user, method, path, status):
    if status != 401:
        api_client.force_authenticate(make_user("ada"))
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]


def test_the_api_denies_by_default():
    assert api_settings.DEFAULT_PERMISSION_CLASSES == [IsAuthenticated]
    assert "apps.accounts.authentication.ApiTokenAuthentication" in settings.REST_FRAMEWORK[
        "DEFAULT_AUTHENTICATION_CLASSES"]


def test_there_is_no_default_account_or_sign_up(client, db):
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()
    for path in ["/accounts/signup/", "/accounts/register/", "/admin/"]:
        assert client.get(path).status_code == 404
