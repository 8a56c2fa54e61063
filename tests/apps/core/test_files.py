"""safe_path: every file the studio opens stays inside its data root, whatever the name parts are."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.files import UnsafePath, safe_path


@pytest.fixture
def root(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ok").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "outside", data / "link-out")
    os.symlink(tmp_path / "outside" / "secret.txt", data / "file-link-out")
    os.symlink(data / "ok", data / "link-in")
    return data


@pytest.mark.parametrize("parts", [
    ("../secret",), ("..",), ("ok/../../outside",), ("ok", ".."), ("..\\..\\windows",), ("ok\\..\\..",),
    ("/etc/passwd",), ("ok", "/etc/passwd"), ("~root",), ("a\x00b",), ("ok\x00/../..",),
    ("a#../../etc",), ("link-out",), ("link-out/secret.txt",), ("file-link-out",), ("",), (".",), ("./ok",),
])
def test_traversal_payloads_are_refused(root, parts):
    with pytest.raises(UnsafePath):
        safe_path(root, *parts)


@pytest.mark.parametrize("name", ["%2e%2e%2fsecret", "..%2F..%2Fetc", "%2Fetc%2Fpasswd", "#", "a#b", "%00"])
def test_encoded_and_fragment_payloads_are_taken_literally_and_stay_inside(root, name):
    path = safe_path(root, name)
    assert path.parent == root.resolve() and path.name == name


def test_a_symlink_that_stays_inside_and_plain_ids_are_allowed(root):
    assert safe_path(root, "link-in") == (root / "ok").resolve()
    assert safe_path(root, "ab", "ab" * 32) == root.resolve() / "ab" / ("ab" * 32)


def test_a_non_string_part_is_refused(root):
    with pytest.raises(UnsafePath):
        safe_path(root, 5)  # type: ignore[arg-type]


tokens = st.sampled_from([*"ab./\\~\x00%#:", "..", "link-out", "link-in", "ok", "file-link-out"])
names = st.lists(st.lists(tokens, max_size=8).map("".join), min_size=1, max_size=4) | st.lists(st.text(), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=names)
def test_whatever_the_parts_the_result_is_refused_or_inside_the_root(root, parts):
    try:
        path = safe_path(root, *parts)
    except UnsafePath:
        return
    resolved_root = root.resolve()
    assert path == resolved_root or resolved_root in path.parents
    assert Path(os.path.realpath(path)) == path  # nothing left to resolve: no link leads elsewhere
