"""The OpenAPI schema is valid, generated without a single warning (every view has serializers the
generator understands), and lists every API route."""

import re

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def _api_routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route


def _normalise(route: str) -> str:
    route = route.replace("^", "").replace("$", "")  # router patterns are regexes included mid-route
    route = re.sub(r"\(\?P<(\w+)>[^)]+\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return "/" + route.replace("\\.", ".")


def test_schema_is_valid_and_has_no_generator_warnings(db):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    problems = sorted(GENERATOR_STATS._warn_cache) + sorted(GENERATOR_STATS._error_cache)
    assert problems == []


def test_every_api_route_is_in_the_schema(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in schema["paths"]}
    missing = []
    for route in _api_routes(get_resolver().url_patterns):
        path = _normalise(route)
        if path.endswith(("/schema/", "/docs/")) or "{format}" in path or path.endswith(".{}"):
            continue
        if re.sub(r"\{[^}]+\}", "{}", path) not in documented:
            missing.append(path)
    assert missing == []


def test_schema_and_docs_need_a_login(client, make_user):
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    client.force_login(make_user("reader"))
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
