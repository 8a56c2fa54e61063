"""The endpoint's ASGI app, driven in-process: routes, auth, input formats, every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.serving.errors import EndpointConfigError

from .conftest import TOKEN, app_for, call, endpoint_config, sha256


@pytest.fixture(scope="module")
def app(bundles):
    return app_for(endpoint_config(bundles, max_payload_bytes=20_000, allow_missing=False))


@pytest.fixture(scope="module")
def row(cancer) -> dict:
    return {name: float(value) for name, value in cancer.drop(columns="target").iloc[0].items()}


def csv_of(rows: list[dict]) -> str:
    names = list(rows[0])
    return "\n".join([",".join(names)] + [",".join(str(row[name]) for name in names) for row in rows]) + "\n"


def test_ping_answers_without_a_token(app) -> None:
    response = call(app, "GET", "/ping", token=None)
    assert response.status_code == 200
    assert response.json() == {"status": "Healthy"}


@pytest.mark.parametrize("path", ["/invocations", "/endpoints/cancer/invocations"])
def test_it_predicts_one_row_with_probabilities_and_names_the_variant(app, row, cancer, bundles, path) -> None:
    from engine.training import bundle_load

    response = call(app, "POST", path, json={"instances": [row]})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = bundle_load(bundles["xgb"].read_bytes()).predict_frame(cancer.drop(columns="target").iloc[[0]])
    assert body["predictions"] == expected["prediction"].tolist()
    assert body["probabilities"][0]["1"] == pytest.approx(float(expected["probability_1"].iloc[0]))
    assert body["variant"] == "xgb"
    assert response.headers["x-variant"] == "xgb"
    assert response.headers["x-amzn-invoked-production-variant"] == "xgb"
    assert response.headers["x-inference-id"] == body["inference_id"]


@pytest.mark.parametrize("shape", ["instances", "inputs", "list", "object", "positional"])
def test_it_takes_each_json_shape(app, row, shape) -> None:
    rows = [row, {**row, "mean radius": 8.0}]
    payload = {"instances": rows, "inputs": rows, "list": rows, "object": row,
               "positional": {"instances": [list(item.values()) for item in rows]}}[shape]
    response = call(app, "POST", "/invocations", json=payload)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == (1 if shape == "object" else 2)


def test_it_takes_csv_with_a_header_in_any_column_order(app, row) -> None:
    shuffled = dict(reversed(list(row.items())))
    in_order = call(app, "POST", "/invocations", content=csv_of([row, row]), headers={"Content-Type": "text/csv"})
    reordered = call(app, "POST", "/invocations", content=csv_of([shuffled]),
                     headers={"Content-Type": "text/csv; charset=utf-8"})
    assert in_order.status_code == reordered.status_code == 200, in_order.text + reordered.text
    assert in_order.json()["probabilities"][0] == reordered.json()["probabilities"][0]


def test_a_request_id_is_kept(app, row) -> None:
    response = call(app, "POST", "/invocations", json=row, headers={"X-Inference-Id": "order-17"})
    assert response.json()["inference_id"] == "order-17"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_it_refuses_a_missing_or_wrong_token(app, row, header) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = call(app, "POST", "/invocations", json=row, token=None, headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_metrics_need_the_token(app) -> None:
    assert call(app, "GET", "/metrics", token=None).status_code == 401


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text
    return response.json()


def test_a_missing_column_is_named(app, row) -> None:
    partial = {name: value for name, value in row.items() if name != "worst area"}
    body = _error(call(app, "POST", "/invocations", json=[partial]), 400)
    assert body["field"] == "worst area" and "worst area" in body["error"]


def test_an_extra_column_is_named(app, row) -> None:
    body = _error(call(app, "POST", "/invocations", json={**row, "customer_id": 7}), 400)
    assert body["field"] == "customer_id"


@pytest.mark.parametrize("value", ["abc", True, [1, 2], {"a": 1}])
def test_a_wrong_type_is_named(app, row, value) -> None:
    body = _error(call(app, "POST", "/invocations", json=[row, {**row, "mean texture": value}]), 400)
    assert body["field"] == "mean texture"
    assert "row 2" in body["error"]


def test_nan_is_refused_with_advice(app, row) -> None:
    text = json.dumps({**row, "mean area": float("nan")})  # Python writes NaN, which JSON does not allow
    body = _error(call(app, "POST", "/invocations", content=text, headers={"Content-Type": "application/json"}), 400)
    assert "NaN" in body["error"] and "null" in body["error"]


def test_nan_in_csv_is_refused(app, row) -> None:
    body = _error(call(app, "POST", "/invocations", content=csv_of([{**row, "mean area": "nan"}]),
                       headers={"Content-Type": "text/csv"}), 400)
    assert body["field"] == "mean area"


def test_missing_values_are_refused_where_the_endpoint_says_so(app, row) -> None:
    body = _error(call(app, "POST", "/invocations", json={**row, "mean area": None}), 400)
    assert body["field"] == "mean area" and "missing" in body["error"]


def test_missing_values_are_filled_where_allowed(bundles, row) -> None:
    lenient = app_for(endpoint_config(bundles))
    assert call(lenient, "POST", "/invocations", json={**row, "mean area": None}).status_code == 200


@pytest.mark.parametrize("body", ["{not json", "[]", "[1, {\"a\": 2}]", "\"text\"", "{\"instances\": 3}"])
def test_malformed_json_is_a_400(app, body) -> None:
    response = _error(call(app, "POST", "/invocations", content=body, headers={"Content-Type": "application/json"}),
                      400)
    assert response["error"]


@pytest.mark.parametrize("body", ["mean radius\n", "a,b\n1\n", "\xff\xfe"])
def test_malformed_csv_is_a_400(app, body) -> None:
    _error(call(app, "POST", "/invocations", content=body.encode("latin-1"), headers={"Content-Type": "text/csv"}),
           400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-npy", ""])
def test_a_wrong_content_type_is_a_415(app, row, content_type) -> None:
    body = _error(call(app, "POST", "/invocations", content=json.dumps(row), headers={"Content-Type": content_type}),
                  415)
    assert "application/json" in body["error"] and "text/csv" in body["error"]


def test_a_payload_over_the_limit_is_a_413_pointing_to_async(app, row) -> None:
    body = _error(call(app, "POST", "/invocations", json=[row] * 200), 413)
    assert "asynchronous" in body["error"]


def test_a_streamed_payload_over_the_limit_is_a_413(app, row) -> None:
    async def chunks():  # no Content-Length: the limit is enforced as the body arrives
        for _ in range(100):
            yield json.dumps(row).encode()

    _error(call(app, "POST", "/invocations", content=chunks(), headers={"Content-Type": "application/json"}), 413)


def test_unknown_routes_and_methods(app) -> None:
    assert _error(call(app, "GET", "/nope"), 404)["error"]
    assert _error(call(app, "GET", "/invocations"), 405)["error"]
    assert _error(call(app, "POST", "/endpoints/other/invocations", json={}), 404)["error"]


def test_a_regression_answers_numbers_and_a_flowless_sklearn_model_takes_categories(bundles, penguins) -> None:
    config = endpoint_config(bundles, variants=[
        {"name": "forest", "model": str(bundles["forest"]), "sha256": sha256(bundles["forest"])},
        {"name": "linear", "model": str(bundles["linear"]), "sha256": sha256(bundles["linear"])}])
    app = app_for(config)
    rows = penguins.drop(columns=["species"]).head(3).replace({np.nan: None}).to_dict(orient="records")
    forest = call(app, "POST", "/invocations", json=rows, headers={"X-Target-Variant": "forest"})
    assert forest.status_code == 200, forest.text
    assert set(forest.json()["predictions"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    linear_rows = penguins.dropna().drop(columns=["body_mass_g"]).head(2).to_dict(orient="records")
    linear = call(app, "POST", "/invocations", json=linear_rows, headers={"X-Target-Variant": "linear"})
    assert linear.status_code == 200, linear.text
    assert isinstance(linear.json()["predictions"][0], float)
    assert _error(call(app, "POST", "/invocations", json=rows, headers={"X-Target-Variant": "C"}), 400)


def test_traffic_is_split_by_weight(bundles, row) -> None:
    xgb = {"model": str(bundles["xgb"]), "sha256": sha256(bundles["xgb"])}
    app = app_for(endpoint_config(bundles, variants=[{"name": "A", "weight": 3, **xgb},
                                                     {"name": "B", "weight": 1, **xgb},
                                                     {"name": "off", "weight": 0, **xgb}]))
    seen = [call(app, "POST", "/invocations", json=row).headers["x-variant"] for _ in range(200)]
    assert "off" not in seen
    assert 0.6 < seen.count("A") / len(seen) < 0.9


def test_the_shadow_gets_a_copy_but_does_not_answer(bundles, row, caplog) -> None:
    config = endpoint_config(bundles, shadow={"name": "next", "model": str(bundles["xgb"]),
                                              "sha256": sha256(bundles["xgb"])})
    app = app_for(config)
    with caplog.at_level("INFO", logger="engine.serving"):
        response = call(app, "POST", "/invocations", json=row)
    assert response.json()["variant"] == "xgb"
    assert any("shadow next" in record.getMessage() and response.json()["inference_id"] in record.getMessage()
               for record in caplog.records)
    metrics = call(app, "GET", "/metrics").json()["variants"]
    assert metrics["next"]["invocations"] == 1 and metrics["xgb"]["invocations"] == 1


def test_metrics_count_requests_errors_and_latency_per_variant(bundles, row) -> None:
    app = app_for(endpoint_config(bundles))
    for _ in range(3):
        call(app, "POST", "/invocations", json=row)
    call(app, "POST", "/invocations", json={"wrong": 1})
    metrics = call(app, "GET", "/metrics").json()
    variant = metrics["variants"]["xgb"]
    assert variant["invocations"] == 4 and variant["client_errors"] == 1 and variant["server_errors"] == 0
    assert sum(variant["buckets"]) == 4
    assert 0 < variant["latency_p50_ms"] <= variant["latency_p99_ms"]


def test_a_tampered_model_is_refused_at_load(bundles, tmp_path) -> None:
    tampered = tmp_path / "xgb.zip"
    data = bytearray(bundles["xgb"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    config = endpoint_config(bundles)
    config["variants"][0]["model"] = str(tampered)
    with pytest.raises(EndpointConfigError, match="does not match its checksum"):
        app_for(config)


def test_a_model_changed_inside_with_a_matching_file_hash_is_still_refused(bundles, tmp_path) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(bundles["xgb"]) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            payload = source.read(name)
            target.writestr(name, payload[:-1] + bytes([payload[-1] ^ 1]) if name == "estimator.ubj" else payload)
    path = tmp_path / "inner.zip"
    path.write_bytes(out.getvalue())
    config = endpoint_config(bundles)
    config["variants"][0].update(model=str(path), sha256=sha256(path))
    with pytest.raises(EndpointConfigError, match="checksum"):
        app_for(config)


@pytest.mark.parametrize("name", ["xgb", "forest", "linear", "kmeans"])
def test_the_answer_is_what_predict_frame_gives(bundles, penguins, cancer, tmp_path, name) -> None:
    from engine.training import TrainingSpec, bundle_bytes, bundle_load, train

    if name == "kmeans":
        path = tmp_path / "kmeans.zip"
        path.write_bytes(bundle_bytes(train(penguins.drop(columns="species"), TrainingSpec("kmeans", None, {"n_clusters": 3}))
                                      .model))
    else:
        path = bundles[name]
    model = bundle_load(path.read_bytes())
    source = cancer if name == "xgb" else penguins.dropna() if name == "linear" else penguins
    frame = source[[entry["name"] for entry in model.signature]].head(5)
    rows = json.loads(frame.to_json(orient="records"))
    app = app_for(endpoint_config(bundles, variants=[{"name": "v", "model": str(path), "sha256": sha256(path)}]))
    response = call(app, "POST", "/invocations", json=rows)
    assert response.status_code == 200, response.text
    expected = model.predict_frame(frame)
    body = response.json()
    if name == "kmeans":
        assert body["predictions"] == expected.to_dict(orient="records")
    elif name == "linear":
        assert body["predictions"] == pytest.approx(expected["prediction"].tolist())
    else:
        assert body["predictions"] == expected["prediction"].tolist()
        for label in model.classes:
            assert [row[label] for row in body["probabilities"]] == pytest.approx(
                expected[f"probability_{label}"].tolist())


def test_a_failing_model_is_a_500_without_a_traceback(bundles, row, caplog) -> None:
    app = app_for(endpoint_config(bundles))

    def broken(x):
        raise RuntimeError("internal detail /srv/secret/path")

    app.models["xgb"].model.estimator.predict_proba = broken
    with caplog.at_level("ERROR", logger="engine.serving"):
        response = call(app, "POST", "/invocations", json=row)
    body = _error(response, 500)
    assert "secret" not in response.text and "endpoint's log" in body["error"]
    assert any("failed on a request" in record.getMessage() for record in caplog.records)
    assert call(app, "GET", "/metrics").json()["variants"]["xgb"]["server_errors"] == 1


def test_an_unwritable_capture_directory_loses_captures_not_answers(bundles, row, tmp_path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the capture directory should be")
    app = app_for(endpoint_config(bundles, capture={"percentage": 100, "directory": str(blocked)}))
    assert call(app, "POST", "/invocations", json=row).status_code == 200
