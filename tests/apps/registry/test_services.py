from __future__ import annotations

import base64
import pickle
import re
import zlib

import pytest

from apps.core.errors import Conflict, Forbidden, NotFound, UserError
from apps.core.models import JobStatus
from apps.registry.cards import card_diff, card_document, card_pdf
from apps.registry.models import ApprovalStatus, CardStatus, ModelVersion
from apps.registry.selectors import model_version_evaluation
from apps.registry.services import (
    model_alias_remove,
    model_alias_set,
    model_card_update,
    model_group_create,
    model_version_approval_set,
    model_version_integrity,
    model_version_load,
    model_version_register_training,
    model_version_register_upload,
)


def test_a_training_job_becomes_version_1_with_its_signature_metrics_lineage_and_a_prefilled_card(
        version, trained, owner):
    assert version.number == 1
    assert version.source == "training" and version.training_job == trained and version.run == trained.run
    assert version.dataset_version == trained.version
    assert version.artifact.sha256 == trained.model.sha256
    assert version.format == "studio-bundle" and version.algorithm == "xgboost"
    assert version.problem_type == "multiclass" and version.target == "species"
    assert {column["name"] for column in version.signature} >= {"island", "bill_length_mm"}
    assert "accuracy" in version.metrics
    assert version.approval_status == ApprovalStatus.PENDING
    card = version.card
    assert "penguins" in card.training_details and "xgboost" in card.training_details.lower()
    assert "Accuracy" in card.evaluation_details
    assert card.revisions.count() == 1


def test_versions_of_a_group_are_numbered_in_order(version, group, trained, owner):
    second = model_version_register_training(group=group, training=trained, user=owner)
    assert second.number == 2


def test_it_refuses_a_duplicate_group_name_in_the_same_project(group, project, owner):
    with pytest.raises(Conflict, match="already"):
        model_group_create(project=project, user=owner, name="Penguin-Species")


def test_it_refuses_a_group_name_that_is_not_a_name(project, owner):
    with pytest.raises(UserError, match="letters, digits"):
        model_group_create(project=project, user=owner, name="../etc")


def test_registering_needs_the_role_to_manage_models(group, trained, member):
    analyst = member("analyst")
    with pytest.raises(Forbidden):
        model_version_register_training(group=group, training=trained, user=analyst)


def test_it_refuses_to_register_a_failed_training_job(group, trained, owner):
    trained.job.status = JobStatus.FAILED
    trained.job.save()
    with pytest.raises(UserError, match="Only a completed training job"):
        model_version_register_training(group=group, training=trained, user=owner)
    assert not ModelVersion.objects.exists()


def test_a_tampered_model_file_is_refused_on_load_with_a_clear_message(version, tamper):
    assert model_version_load(version=version).algorithm == "xgboost"
    assert model_version_integrity(version=version) == ""
    tamper(version)
    with pytest.raises(Conflict, match="no longer matches the sha256"):
        model_version_load(version=version)
    assert "changed or damaged" in model_version_integrity(version=version)


def test_a_tampered_training_model_cannot_be_registered(group, trained, owner, tamper):
    from types import SimpleNamespace

    tamper(SimpleNamespace(artifact=trained.model))
    with pytest.raises(Conflict, match="no longer matches"):
        model_version_register_training(group=group, training=trained, user=owner)


@pytest.mark.parametrize("suffix", ["json", "ubj"])
def test_an_uploaded_xgboost_model_is_registered_and_loads(group, owner, xgboost_files, suffix):
    version = model_version_register_upload(group=group, user=owner, filename=f"model.{suffix}",
                                            data=xgboost_files[suffix])
    assert version.format == f"xgboost-{suffix}" and version.problem_type == "binary"
    assert len(version.signature) == 3
    assert model_version_load(version=version).format == f"xgboost-{suffix}"


def test_an_uploaded_skops_model_is_registered(group, owner):
    import pandas as pd
    import skops.io
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 0.2, 0.9], "b": [1.0, 0.0, 0.8, 0.1]})
    model = LogisticRegression().fit(frame, [0, 1, 0, 1])
    version = model_version_register_upload(group=group, user=owner, filename="m.skops", data=skops.io.dumps(model))
    assert version.algorithm == "LogisticRegression"
    assert [column["name"] for column in version.signature] == ["a", "b"]


def test_a_skops_file_with_a_type_off_the_trust_list_is_refused(group, owner):
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    hostile = skops.io.dumps(FunctionTransformer(func=eval))  # noqa: S307 - never called: it is the payload
    with pytest.raises(UserError, match="does not load"):
        model_version_register_upload(group=group, user=owner, filename="m.skops", data=hostile)


def test_the_canary_really_writes_its_marker_when_unpickled(pickle_canary):
    data, marker = pickle_canary
    pickle.loads(data)  # noqa: S301 - proves the payload is live, so the tests below can fail
    assert marker.exists()


@pytest.mark.parametrize("filename", ["model.pkl", "model.joblib", "model.json", "model.ubj", "model.skops",
                                      "model.zip", "model.pt"])
def test_a_pickle_is_never_unpickled_whatever_its_name(group, owner, pickle_canary, filename):
    data, marker = pickle_canary
    with pytest.raises(UserError) as raised:
        model_version_register_upload(group=group, user=owner, filename=filename, data=data)
    assert not marker.exists()
    assert not ModelVersion.objects.exists()
    assert "pickle" in raised.value.message.lower() or "not" in raised.value.message


def test_a_pickle_inside_a_zip_named_like_a_bundle_is_refused(group, owner, pickle_canary):
    import io
    import zipfile

    data, marker = pickle_canary
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", '{"format": "studio-model", "version": 1, "estimator": '
                                          '{"format": "pickle", "file": "m.pkl", "sha256": "x"}}')
        archive.writestr("m.pkl", data)
    with pytest.raises(UserError):
        model_version_register_upload(group=group, user=owner, filename="model.zip", data=buffer.getvalue())
    assert not marker.exists()


def test_a_file_of_the_wrong_type_is_refused_with_the_accepted_formats(group, owner):
    with pytest.raises(UserError, match="Accepted formats"):
        model_version_register_upload(group=group, user=owner, filename="data.csv", data=b"a,b\n1,2\n")


def test_approval_needs_the_role_to_approve(version, member):
    with pytest.raises(Forbidden):
        model_version_approval_set(version=version, user=member("data_scientist"), status=ApprovalStatus.APPROVED)
    version.refresh_from_db()
    assert version.approval_status == ApprovalStatus.PENDING


def test_approval_goes_both_ways_and_keeps_who_when_and_why(version, member):
    engineer = member("ml_engineer")
    model_version_approval_set(version=version, user=engineer, status=ApprovalStatus.APPROVED, comment="good")
    model_version_approval_set(version=version, user=engineer, status=ApprovalStatus.REJECTED, comment="drifted")
    version.refresh_from_db()
    assert version.approval_status == ApprovalStatus.REJECTED
    history = list(version.approvals.all())
    assert [(e.previous, e.status, e.comment, e.by) for e in history] == [
        ("Approved", "Rejected", "drifted", engineer), ("PendingManualApproval", "Approved", "good", engineer)]
    with pytest.raises(Conflict):
        model_version_approval_set(version=version, user=engineer, status=ApprovalStatus.REJECTED)


def test_an_alias_is_set_moved_and_removed(version, group, trained, owner):
    second = model_version_register_training(group=group, training=trained, user=owner)
    model_alias_set(group=group, user=owner, name="champion", version=version)
    model_alias_set(group=group, user=owner, name="champion", version=second)
    assert list(group.aliases.values_list("name", "version__number")) == [("champion", 2)]
    model_alias_remove(group=group, user=owner, name="champion")
    assert not group.aliases.exists()
    with pytest.raises(NotFound):
        model_alias_remove(group=group, user=owner, name="champion")


@pytest.mark.parametrize("name", ["Champion", "two words", "../x", "", "a" * 51])
def test_an_alias_must_be_a_slug(version, group, owner, name):
    with pytest.raises(UserError, match="lower-case"):
        model_alias_set(group=group, user=owner, name=name, version=version)


def test_every_card_save_is_a_revision_and_the_diff_shows_the_change(version, owner):
    card = version.card
    model_card_update(card=card, user=owner, changes={"overview": "Tells penguin species apart.",
                                                      "risk_rating": "low"})
    model_card_update(card=card, user=owner, changes={"overview": "Tells three penguin species apart."})
    revisions = list(card.revisions.order_by("number"))
    assert [revision.number for revision in revisions] == [1, 2, 3]
    diff = card_diff(revisions[1].content, revisions[2].content)
    assert ("removed", "-Tells penguin species apart.") in diff
    assert ("added", "+Tells three penguin species apart.") in diff


def test_only_a_role_that_approves_may_approve_a_card(version, member):
    scientist = member("data_scientist")
    with pytest.raises(Forbidden):
        model_card_update(card=version.card, user=scientist, changes={"status": CardStatus.APPROVED})
    model_card_update(card=version.card, user=scientist, changes={"status": CardStatus.PENDING_REVIEW})
    model_card_update(card=version.card, user=member("ml_engineer"), changes={"status": CardStatus.APPROVED})
    assert version.card.status == CardStatus.APPROVED


def test_card_fields_are_checked(version, owner):
    with pytest.raises(UserError, match="risk rating"):
        model_card_update(card=version.card, user=owner, changes={"risk_rating": "extreme"})
    with pytest.raises(UserError, match="needs a key"):
        model_card_update(card=version.card, user=owner, changes={"custom_fields": [{"key": "", "value": "x"}]})
    with pytest.raises(UserError, match="no field"):
        model_card_update(card=version.card, user=owner, changes={"version": 3})


def pdf_text(data: bytes) -> str:
    """The text drawn by a PDF's content streams (enough to find the card's words)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        if stream.rstrip().endswith(b"~>"):  # reportlab writes ASCII85 over Flate
            stream = base64.a85decode(stream.rstrip()[:-2])
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            chunks.append(stream)
    return b"".join(chunks).decode("latin-1")


def test_the_pdf_export_is_a_pdf_holding_the_cards_text(version, owner):
    model_card_update(card=version.card, user=owner, changes={
        "overview": "Predicts the species of a penguin", "risk_rating": "medium",
        "custom_fields": [{"key": "owner team", "value": "seabirds"}]})
    data = card_pdf(version.card, evaluation=model_version_evaluation(version=version))
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    for expected in ("Predicts the species of a penguin", "Medium", "seabirds", "penguin-species version 1",
                     "Accuracy", "Confusion matrix", "Chinstrap", "Feature importance", "flipper_length_mm"):
        assert expected in text


def test_the_json_export_holds_the_card_and_the_version(version):
    document = card_document(version.card)
    assert document["model_group"] == "penguin-species" and document["version"] == 1
    assert document["card"]["risk_rating"] == "unknown" and document["sha256"] == version.artifact.sha256


def _onnx_model():
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    return to_onnx(LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int)), x[:1])


def test_an_uploaded_onnx_model_is_registered_with_its_inputs(group, owner):
    version = model_version_register_upload(group=group, user=owner, filename="model.onnx",
                                            data=_onnx_model().SerializeToString())
    assert version.format == "onnx" and version.signature == [{"name": "X", "type": "float"}]
    assert model_version_load(version=version).format == "onnx"


def test_an_onnx_model_pointing_at_external_weight_files_is_refused(group, owner):
    import onnx

    model = _onnx_model()
    tensor = model.graph.initializer.add()
    tensor.CopyFrom(onnx.helper.make_tensor("weights", onnx.TensorProto.FLOAT, [1], [0.0]))
    tensor.ClearField("float_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="../../etc/passwd")
    with pytest.raises(UserError, match="external files"):
        model_version_register_upload(group=group, user=owner, filename="model.onnx", data=model.SerializeToString())


def test_a_file_that_is_not_onnx_is_refused(group, owner):
    with pytest.raises(UserError, match="not an ONNX model"):
        model_version_register_upload(group=group, user=owner, filename="model.onnx", data=b"\x00\x01garbage")
