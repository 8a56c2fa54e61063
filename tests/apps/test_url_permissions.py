"""Every URL pattern × every role × every method it serves, checked against the policy the view declares.

Views declare who they are for with the decorators in apps/core/permissions.py (`studio_policy`), and API
views with their permission classes (`IsSiteAdmin`, `ProjectRole` with `action_activities`,
`IsAuthenticated`). This test walks the URL resolver, so new pages and API routes are covered the moment
they are added; a view without a declared policy, or a URL keyword this test cannot fill with a real
object, fails it loudly. Expectations:

- anonymous: a redirect to sign-in (pages) or 401/403 (API), except the public allowlist;
- project-scoped URLs (a project slug or an object of a project in the URL): a non-member gets 404;
- a member whose role lacks the declared activity gets 403;
- everyone allowed gets neither 403 nor 404 nor a server error.
Each request runs in a rolled-back savepoint, so destructive POSTs do not disturb the next one.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.accounts.services import token_create
from apps.core.api.permissions import IsSiteAdmin, ProjectRole
from apps.core.artifacts import artifact_put_bytes
from apps.core.models import AuditEvent, Job
from apps.core.permissions import AUTHENTICATED, PUBLIC, SITE_ADMIN
from apps.core.roles import Role, role_allows
from apps.core.services import project_create

ROLES = [role.value for role in Role]
VISITORS = [*ROLES, "non_member", "site_admin", "anonymous"]

# The only views anyone may reach without signing in.
PUBLIC_ALLOWLIST = {"healthz", "accounts:login", "accounts:logout"}
# Views that need a query string to do anything: (scope, values from the fixtures), scopes as in KWARGS.
QUERIES: dict[str, tuple[str, Callable[[World], dict[str, str]]]] = {
    "core:switch-project": ("project", lambda world: {"project": world.project.slug}),
}
SKIPPED_KWARGS = {"format"}  # DRF format suffixes repeat the same view


@dataclass
class World:
    """Real objects of one project, and a user per visitor kind."""

    project: Any
    users: dict[str, Any]
    job: Job
    artifact: Any
    event: AuditEvent
    tokens: dict[str, Any]
    made: dict[str, Any] = field(default_factory=dict)

    def instance(self, label: str):
        """An object of a model that has no fixture of its own yet, filled in field by field."""
        if label not in self.made:
            self.made[label] = _autofill(apps.get_model(label), self)
        return self.made[label]


def _autofill(model: type[models.Model], world: World) -> models.Model:
    values: dict[str, Any] = {}
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.null or model_field.has_default() or model_field.blank:
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            continue
        if isinstance(model_field, models.ForeignKey):
            target = model_field.related_model
            if target._meta.label == "core.Project":
                values[model_field.name] = world.project
            elif target._meta.label == "core.Job":
                values[model_field.name] = world.job
            elif target._meta.label == "core.Artifact":
                values[model_field.name] = world.artifact
            elif target is world.users["admin"].__class__:
                values[model_field.name] = world.users["admin"]
            else:
                values[model_field.name] = world.instance(target._meta.label)
        elif model_field.choices:
            values[model_field.name] = model_field.choices[0][0]
        elif isinstance(model_field, (models.CharField, models.TextField)):
            values[model_field.name] = f"fixture-{uuid.uuid4().hex[:8]}"[: model_field.max_length or 100]
        elif isinstance(model_field, (models.IntegerField, models.FloatField, models.DecimalField)):
            values[model_field.name] = 1
        elif isinstance(model_field, models.BooleanField):
            values[model_field.name] = False
        elif isinstance(model_field, models.JSONField):
            values[model_field.name] = {}
        elif isinstance(model_field, models.DateTimeField):
            values[model_field.name] = timezone.now()
        elif isinstance(model_field, models.DateField):
            values[model_field.name] = datetime.date.today()
        elif isinstance(model_field, models.UUIDField):
            values[model_field.name] = uuid.uuid4()
        else:
            raise AssertionError(f"test_url_permissions cannot fill {model._meta.label}.{model_field.name}; "
                                 "add a fixture for this model to World")
    return model.objects.create(**values)


def _model_card(world: World):
    """A model version with its card and a model file of its own (a dataset delete must not take it away)."""
    if "registry.ModelCard" not in world.made:
        from apps.registry.models import ModelCard, ModelVersion

        model_file = artifact_put_bytes(data=b'{"learner": {}}', project=world.project, name="model.json",
                                        media_type="application/json", kind="model", user=world.users["admin"])
        version = ModelVersion.objects.create(group=world.instance("registry.ModelGroup"), number=1,
                                              artifact=model_file, format="xgboost-json", source="upload")
        world.made["registry.ModelVersion"] = version
        world.made["registry.ModelCard"] = ModelCard.objects.create(version=version)
    return world.made["registry.ModelCard"]


# URL keyword → (scope, value). Scope "project": the value belongs to the project, so non-members get 404;
# "own": the visitor's own object; "global": not tied to a project.
Getter = Callable[[World, str], Any]
KWARGS: dict[str, tuple[str, Getter]] = {
    "project": ("project", lambda w, v: w.project.slug),
    "area": ("global", lambda w, v: "features"),
    "job_id": ("project", lambda w, v: w.job.id),
    "artifact_id": ("project", lambda w, v: w.artifact.id),
    "user_id": ("global", lambda w, v: w.users["labeler"].id),
    "token_id": ("own", lambda w, v: w.tokens[v].id),
    "dataset_id": ("project", lambda w, v: w.instance("datasets.Dataset").id),
    # A version of that same dataset (autofill links it to the cached Dataset above).
    "number": ("project", lambda w, v: w.instance("datasets.DatasetVersion").number),
    "connection_id": ("project", lambda w, v: w.instance("datasets.Connection").id),
    "flow_id": ("project", lambda w, v: w.instance("wrangler.Flow").id),
    "step_id": ("project", lambda w, v: "step1"),
    "report_id": ("project", lambda w, v: w.instance("insights.InsightsReport").id),
    "name": ("global", lambda w, v: "xgboost"),  # /api/v1/algorithms/<name>/
    "training_job_id": ("project", lambda w, v: w.instance("training.TrainingJob").id),
    "automl_job_id": ("project", lambda w, v: w.instance("automl.AutoMLJob").id),
    "experiment_id": ("project", lambda w, v: w.instance("experiments.Experiment").id),
    "run_id": ("project", lambda w, v: w.instance("experiments.Run").id),
    "key": ("project", lambda w, v: "loss"),
    "tuning_job_id": ("project", lambda w, v: w.instance("tuning.TuningJob").id),
    "group_id": ("project", lambda w, v: w.instance("registry.ModelGroup").id),
    "version_id": ("project", lambda w, v: _model_card(w).version_id),
    "alias": ("project", lambda w, v: _model_card(w) and w.instance("registry.ModelAlias").name),
}
# DRF detail routes (pk, uuid, slug...) are filled by the viewset's model.
MODEL_LOOKUPS: dict[str, tuple[str, Getter]] = {
    "core.Project": ("project", lambda w, v: w.project.slug),
    "core.Job": ("project", lambda w, v: w.job.id),
    "core.Artifact": ("project", lambda w, v: w.artifact.uuid),
    "core.Membership": ("project", lambda w, v: w.users["labeler"].id),
    "core.AuditEvent": ("global", lambda w, v: w.event.id),
    "accounts.ApiToken": ("own", lambda w, v: w.tokens[v].id),
    "auth.User": ("global", lambda w, v: w.users["labeler"].id),
    "datasets.Dataset": ("project", lambda w, v: w.instance("datasets.Dataset").id),
    "datasets.Connection": ("project", lambda w, v: w.instance("datasets.Connection").id),
    "wrangler.Flow": ("project", lambda w, v: w.instance("wrangler.Flow").id),
    "insights.InsightsReport": ("project", lambda w, v: w.instance("insights.InsightsReport").id),
    "training.TrainingJob": ("project", lambda w, v: w.instance("training.TrainingJob").id),
    "automl.AutoMLJob": ("project", lambda w, v: w.instance("automl.AutoMLJob").id),
    "experiments.Experiment": ("project", lambda w, v: w.instance("experiments.Experiment").id),
    "experiments.Run": ("project", lambda w, v: w.instance("experiments.Run").id),
    "tuning.TuningJob": ("project", lambda w, v: w.instance("tuning.TuningJob").id),
    "registry.ModelGroup": ("project", lambda w, v: w.instance("registry.ModelGroup").id),
    "registry.ModelVersion": ("project", lambda w, v: _model_card(w).version_id),
    "registry.ModelCard": ("project", lambda w, v: _model_card(w).id),
}


@dataclass
class Route:
    name: str
    route: str
    pattern: URLPattern
    kwarg_names: list[str]


def _walk(patterns, prefix: str = "", namespace: str = "", kwarg_names: tuple[str, ...] = ()):
    for pattern in patterns:
        names = kwarg_names + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), space, names)
        elif isinstance(pattern, URLPattern):
            if not pattern.name:
                raise AssertionError(f"URL {prefix}{pattern.pattern} has no name; name it so it can be tested")
            yield Route(f"{namespace}{pattern.name}", prefix + str(pattern.pattern), pattern, list(names))


def all_routes() -> list[Route]:
    return [route for route in _walk(get_resolver().url_patterns) if not SKIPPED_KWARGS & set(route.kwarg_names)]


# --- reading a view's declared policy -----------------------------------------------------------
@dataclass
class Policy:
    kind: str  # public, authenticated, site_admin, project:<activity>, object:<activity>
    site_admins_too: bool = False


def _drf_policy(callback, method: str, route: Route) -> Policy:
    cls = callback.cls
    declares = (cls.permission_classes is not api_settings.DEFAULT_PERMISSION_CLASSES
                or cls.get_permissions is not APIView.get_permissions)
    if not declares:
        raise AssertionError(f"{route.name} ({cls.__name__}) relies on the default permission classes; "
                             "declare permission_classes (IsSiteAdmin, ProjectRole + action_activities, ...)")
    view = cls(**getattr(callback, "initkwargs", {}))
    view.action = (getattr(callback, "actions", None) or {}).get(method)
    view.request = None
    permissions = view.get_permissions()
    site_admins_too = getattr(cls, "studio_site_admins", False)
    if any(isinstance(p, IsSiteAdmin) for p in permissions):
        return Policy(SITE_ADMIN)
    if any(isinstance(p, ProjectRole) for p in permissions):
        activity = getattr(view, "action_activities", {}).get(view.action, "view")
        if "project" in route.kwarg_names:
            return Policy(f"project:{activity}", site_admins_too)
        if _lookup_kwarg(callback, route):
            return Policy(f"object:{activity}", site_admins_too)
        return Policy(AUTHENTICATED)  # a list: ProjectRole scopes it to the visitor's projects
    if any(isinstance(p, IsAuthenticated) for p in permissions):
        return Policy(AUTHENTICATED, site_admins_too)
    if permissions and all(isinstance(p, AllowAny) for p in permissions):
        return Policy(PUBLIC)
    raise AssertionError(f"{route.name}: unknown permission classes {permissions}; teach this test about them")


def policy_of(route: Route, method: str) -> Policy:
    callback = route.pattern.callback
    if hasattr(callback, "cls"):
        return _drf_policy(callback, method, route)
    policy = getattr(callback, "studio_policy", None)
    if policy is None:
        raise AssertionError(f"{route.name} ({route.route}) declares no policy: decorate the view with "
                             "public_view, login_view, site_admin_view, project_view(...) or object_view(...)")
    return Policy(policy, getattr(callback, "studio_site_admins", False))


def methods_of(route: Route) -> list[str]:
    callback = route.pattern.callback
    if hasattr(callback, "cls"):
        actions = getattr(callback, "actions", None)
        if actions:
            return sorted(set(actions) - {"head", "options"})
        return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(callback.cls, m)]
    return ["get", "post"]


def _lookup_kwarg(callback, route: Route) -> str | None:
    cls = getattr(callback, "cls", None)
    if cls is None or not hasattr(cls, "lookup_field"):
        return None
    name = getattr(cls, "lookup_url_kwarg", None) or cls.lookup_field
    return name if name in route.kwarg_names else None


def build_kwargs(route: Route, world: World, visitor: str) -> tuple[dict[str, Any], set[str]]:
    """The URL's keyword values from real objects, and the scopes they carry."""
    kwargs, scopes = {}, set()
    lookup = _lookup_kwarg(route.pattern.callback, route)
    for name in route.kwarg_names:
        if name == lookup and route.pattern.callback.cls.queryset is None:  # a registry, not a model
            scope, getter = KWARGS[name]
        elif name == lookup:
            label = route.pattern.callback.cls.queryset.model._meta.label
            if label not in MODEL_LOOKUPS:
                raise AssertionError(f"{route.name}: no fixture for {label} lookups; add it to MODEL_LOOKUPS")
            scope, getter = MODEL_LOOKUPS[label]
        elif name in KWARGS:
            scope, getter = KWARGS[name]
        else:
            raise AssertionError(f"{route.name} ({route.route}) has a URL keyword {name!r} this test does not "
                                 "know; add it to KWARGS with a real object")
        kwargs[name] = getter(world, visitor if visitor in world.tokens else "admin")
        scopes.add(scope)
    return kwargs, scopes


def expected(policy: Policy, route: Route, visitor: str, scopes: set[str]) -> str:
    if policy.kind == PUBLIC:
        return "ok"
    if visitor == "anonymous":
        return "api-denied" if hasattr(route.pattern.callback, "cls") else "login"
    if policy.kind == SITE_ADMIN:
        return "ok" if visitor == "site_admin" else "403"
    project_scoped = "project" in scopes or policy.kind.startswith(("project:", "object:"))
    if visitor == "site_admin":
        return "ok" if (policy.site_admins_too or not project_scoped) else "404"
    if visitor == "non_member":
        return "404" if project_scoped else "ok"
    if policy.kind == AUTHENTICATED:
        return "ok"
    activity = policy.kind.split(":", 1)[1]
    return "ok" if role_allows(visitor, activity) else "403"


def outcome_matches(want: str, response) -> bool:
    status = response.status_code
    if want == "ok":
        return status not in (401, 403, 404) and status < 500
    if want == "login":
        return status == 302 and response["Location"].startswith(reverse("accounts:login"))
    if want == "api-denied":
        return status in (401, 403)
    # 405: the view does not serve this method at all, so it did nothing for this visitor either.
    return status in (int(want), 405)


# --- fixtures and the test ---------------------------------------------------------------------
@pytest.fixture
def world(project, member, make_user) -> World:
    users = {"admin": project.memberships.get().user}
    users.update({role: member(role, f"{role}-user") for role in ROLES if role != "admin"})
    users["non_member"] = make_user("outsider")
    project_create(name="Elsewhere", user=users["non_member"])  # an Admin of another project
    users["site_admin"] = make_user("root", superuser=True)
    owner = users["admin"]
    return World(
        project=project, users=users,
        job=Job.objects.create(project=project, owner=owner, kind="test.count", title="Count", inputs={"n": 1}),
        artifact=artifact_put_bytes(data=b"a,b\n1,2\n", project=project, name="data.csv", media_type="text/csv",
                                    kind="upload", user=owner),
        event=AuditEvent.objects.create(actor=owner, actor_name=owner.username, action="fixture", project=project),
        tokens={name: token_create(user=user, name="fixture")[0] for name, user in users.items()},
    )


@pytest.fixture
def no_api_throttle(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


def _request(client: Client, method: str, url: str, route: Route, query: dict[str, str]):
    is_api = hasattr(route.pattern.callback, "cls")
    url = f"{url}?{urlencode(query)}" if query else url
    if method == "get":
        return client.get(url)
    if is_api:
        return getattr(client, method)(url, data={}, content_type="application/json")
    return getattr(client, method)(url, data={})


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_url_answers_each_role_as_its_policy_says(visitor, world, no_api_throttle):
    client = Client()
    failures, checked = [], 0
    for route in all_routes():
        kwargs, scopes = build_kwargs(route, world, visitor)
        query_scope, make_query = QUERIES.get(route.name, ("global", lambda world: {}))
        scopes.add(query_scope)
        query = make_query(world)
        url = reverse(route.name, kwargs=kwargs)
        assert resolve(url).func is route.pattern.callback, f"{route.name} reverses to another view; name it uniquely"
        for method in methods_of(route):
            policy = policy_of(route, method)
            if policy.kind == PUBLIC and route.name not in PUBLIC_ALLOWLIST:
                failures.append(f"{route.name} is public but not in the public allowlist")
                continue
            want = expected(policy, route, visitor, scopes)
            if visitor != "anonymous":
                client.force_login(world.users[visitor])
            try:
                with transaction.atomic():
                    response = _request(client, method, url, route, query)
                    transaction.set_rollback(True)
            except Exception as error:  # noqa: BLE001 - report every broken URL, not just the first
                failures.append(f"{method.upper()} {url} as {visitor}: raised {error!r}")
                continue
            checked += 1
            if not outcome_matches(want, response):
                hint = ""
                if want == "ok" and response.status_code == 403 and policy.kind == AUTHENTICATED:
                    hint = " (the view checks an activity its decorator does not declare: use object_view(...))"
                failures.append(f"{method.upper()} {url} ({route.name}, policy {policy.kind}) as {visitor}: "
                                f"expected {want}, got {response.status_code}{hint}")
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_a_view_without_a_declared_policy_fails_the_check(db):
    from django.urls import path

    def undecorated(request):  # pragma: no cover - never called
        raise AssertionError

    route = Route("naked", "naked/", path("naked/", undecorated, name="naked"), [])
    with pytest.raises(AssertionError, match="declares no policy"):
        policy_of(route, "get")


def test_an_unknown_url_keyword_fails_the_check(world):
    from django.urls import path

    from apps.core.permissions import login_view

    route = Route("mystery", "m/<int:widget_id>/", path("m/<int:widget_id>/", login_view(lambda r: r), name="m"),
                  ["widget_id"])
    with pytest.raises(AssertionError, match="does not know"):
        build_kwargs(route, world, "admin")


def test_the_walk_covers_pages_and_api_routes(db):
    names = {route.name for route in all_routes()}
    assert {"accounts:roles", "accounts:tokens", "core:area", "project-member-detail", "token-revoke"} <= names
