"""Writes for the model registry. Keyword-only, named <thing>_<verb>. Registering needs the role's
"manage models" activity, changing an approval "approve models"; the checks are made here as well as in the
views and the API, so no caller can skip them."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.automl.models import AutoMLJob
from apps.core.artifacts import ArtifactCorrupted, artifact_path, artifact_put_bytes
from apps.core.audit import audit_record
from apps.core.errors import Conflict, NotFound, UserError
from apps.core.models import Artifact, JobStatus, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.training.models import TrainingJob
from engine.registry.formats import (
    MAX_MODEL_BYTES,
    SUFFIXES,
    ModelDescription,
    ModelFormatError,
    describe_model,
)
from engine.training import ALGORITHMS, METRICS

from .models import (
    CARD_TEXT_FIELDS,
    ApprovalEvent,
    ApprovalStatus,
    CardRevision,
    CardStatus,
    ModelAlias,
    ModelCard,
    ModelGroup,
    ModelVersion,
    RiskRating,
    VersionSource,
)

GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
ALIAS_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_CUSTOM_FIELDS = 50
TAMPERED = ("The stored model file of {version} no longer matches the sha256 it was registered with: it was "
            "changed or damaged after it was saved, so it was not loaded.")


def model_group_create(*, project: Project, user, name: str, description: str = "") -> ModelGroup:
    require(user=user, project=project, activity=Activity.MANAGE_MODELS)
    name = name.strip()
    if not GROUP_NAME_RE.match(name):
        raise UserError("A model group's name is 1 to 63 letters, digits, hyphens or underscores, starting with a "
                        "letter or digit.", field="name")
    if ModelGroup.objects.filter(project=project, name__iexact=name).exists():
        raise Conflict(f"This project has a model group called '{name}' already; choose another name.",
                       field="name")
    try:
        with transaction.atomic():
            group = ModelGroup.objects.create(project=project, name=name, description=description.strip(),
                                              created_by=user)
    except IntegrityError:
        raise Conflict(f"This project has a model group called '{name}' already.", field="name") from None
    audit_record(actor=user, action="model_group.create", project=project, summary=f"Created model group {name}")
    return group


def model_group_for(*, project: Project, user, group: ModelGroup | None, new_group_name: str) -> ModelGroup:
    """The group a registration goes to: an existing one, or a new one made by name."""
    if group is not None:
        return group
    if not new_group_name.strip():
        raise UserError("Choose a model group or name a new one.", field="group")
    return model_group_create(project=project, user=user, name=new_group_name)


# --- registering versions ------------------------------------------------------------------------------------

def _metric_text(metrics: dict[str, Any]) -> str:
    parts = []
    for name, value in metrics.items():
        entry = METRICS.get(name)
        label = entry.label if entry else name.replace("_", " ")
        parts.append(f"{label}: {value:.4g}" if isinstance(value, int | float) else f"{label}: {value}")
    return "; ".join(parts)


def _prefill_training(training: TrainingJob) -> dict[str, str]:
    algorithm = ALGORITHMS.get(training.algorithm)
    validation = (f"{training.folds}-fold cross-validation" if training.validation == "kfold"
                  else f"holdout of {training.test_share:.0%} of the rows")
    hyperparameters = ", ".join(f"{name}={value}" for name, value in sorted(training.hyperparameters.items()))
    rows = training.summary.get("rows")
    details = (f"{algorithm.label if algorithm else training.algorithm} trained by training job '{training.name}' on "
               f"dataset '{training.dataset.name}' version {training.version.number}"
               f"{f' ({rows:,} rows)' if isinstance(rows, int) else ''}, target '{training.target or 'none'}', "
               f"problem type {training.resolved_problem_type or 'unknown'}, validated by {validation}."
               f"{f' Fitted data flow: {training.flow_run}.' if training.flow_run else ''}"
               f"{f' Hyperparameters: {hyperparameters}.' if hyperparameters else ''}")
    metrics = training.summary.get("metrics") or {}
    evaluation = f"Validation metrics: {_metric_text(metrics)}." if metrics else ""
    return {"training_details": details, "evaluation_details": evaluation}


def _prefill_automl(automl: AutoMLJob) -> dict[str, str]:
    summary = automl.summary
    details = (f"Best model of AutoML job '{automl.name}' ({summary.get('best_algorithm', 'unknown algorithm')}"
               f"{', an ensemble' if summary.get('ensemble') else ''}) after {summary.get('trials', '?')} trials, "
               f"on dataset '{automl.dataset.name}' version {automl.version.number}, target '{automl.target}', "
               f"problem type {automl.resolved_problem_type}, ranked by {summary.get('metric', 'its default metric')}.")
    test = summary.get("test_metrics") or {}
    evaluation = (f"Metrics on {summary.get('test_rows', '?')} held-out rows: {_metric_text(test)}." if test else "")
    return {"training_details": details, "evaluation_details": evaluation}


def _model_bytes(artifact: Artifact, label: str) -> bytes:
    try:
        return artifact_path(artifact, verify=True).read_bytes()
    except ArtifactCorrupted:
        raise Conflict(TAMPERED.format(version=label), code="checksum_mismatch") from None


def _describe(data: bytes, filename: str) -> ModelDescription:
    try:
        return describe_model(data, filename=filename)
    except ModelFormatError as error:
        raise UserError(error.message, field="file") from None


def _version_create(*, group: ModelGroup, user, artifact: Artifact, described: ModelDescription, source: str,
                    prefill: dict[str, str], description: str = "", **links: Any) -> ModelVersion:
    with transaction.atomic():
        locked = ModelGroup.objects.select_for_update().get(id=group.id)
        number = (locked.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = ModelVersion.objects.create(
            group=locked, number=number, artifact=artifact, format=described.format, source=source,
            algorithm=described.algorithm[:100], problem_type=described.problem_type[:20],
            target=described.target[:255], signature=described.signature, metrics=described.metrics,
            description=description.strip(), created_by=user, **links)
        card = ModelCard.objects.create(version=version, updated_by=user, **prefill)
        _revision_add(card, user)
        audit_record(actor=user, action="model_version.register", project=group.project,
                     summary=f"Registered {version} from {VersionSource(source).label.lower()}")
    return version


def model_version_register_training(*, group: ModelGroup, training: TrainingJob, user,
                                    description: str = "") -> ModelVersion:
    """A version from a completed training job's model bundle (the same stored file, verified and loaded)."""
    require(user=user, project=group.project, activity=Activity.MANAGE_MODELS)
    if training.project_id != group.project_id:
        raise UserError("The training job and the model group must belong to the same project.")
    status = training.job.status if training.job else "unknown"
    if status != JobStatus.COMPLETED or training.model is None:
        raise UserError(f"Only a completed training job can be registered; '{training.name}' is {status}.",
                        field="training_job")
    if training.is_script:
        raise UserError("A script training job leaves model.tar.gz, whose contents the studio cannot check; "
                        "upload the model in an accepted format instead.", field="training_job")
    described = _describe(_model_bytes(training.model, training.name), "model.zip")
    described.metrics = described.metrics or dict(training.summary.get("metrics") or {})
    described.target = described.target or training.target
    return _version_create(group=group, user=user, artifact=training.model, described=described,
                           source=VersionSource.TRAINING, prefill=_prefill_training(training),
                           description=description, training_job=training, run=training.run,
                           dataset_version=training.version, flow_run=training.flow_run)


def model_version_register_automl(*, group: ModelGroup, automl: AutoMLJob, user, description: str = "") -> ModelVersion:
    """A version from a completed AutoML job's best model (an ensemble bundle when an ensemble won)."""
    require(user=user, project=group.project, activity=Activity.MANAGE_MODELS)
    if automl.project_id != group.project_id:
        raise UserError("The AutoML job and the model group must belong to the same project.")
    status = automl.job.status if automl.job else "unknown"
    if status != JobStatus.COMPLETED or automl.model is None:
        raise UserError(f"Only a completed AutoML job can be registered; '{automl.name}' is {status}.",
                        field="automl_job")
    described = _describe(_model_bytes(automl.model, automl.name), "model.zip")
    test_metrics = automl.summary.get("test_metrics") or {}
    described.metrics = {**described.metrics, **{f"test_{k}": v for k, v in test_metrics.items()}}
    return _version_create(group=group, user=user, artifact=automl.model, described=described,
                           source=VersionSource.AUTOML, prefill=_prefill_automl(automl), description=description,
                           automl_job=automl, run=automl.run, dataset_version=automl.version,
                           flow_run=automl.flow_run)


def model_version_register_upload(*, group: ModelGroup, user, filename: str, data: bytes,
                                  description: str = "") -> ModelVersion:
    """A version from an uploaded file in an accepted format; it is loaded safely before it is stored."""
    require(user=user, project=group.project, activity=Activity.MANAGE_MODELS)
    if not data:
        raise UserError("The file is empty.", field="file")
    if len(data) > MAX_MODEL_BYTES:
        raise UserError("The file is larger than the largest model the registry accepts (2 GB).", field="file")
    described = _describe(data, filename)
    artifact = artifact_put_bytes(data=data, project=group.project, name=filename[:255],
                                  media_type="application/octet-stream", kind="model", user=user)
    prefill = {"training_details": f"Uploaded as '{filename}' ({described.format}); how it was trained is not "
                                   "recorded."}
    return _version_create(group=group, user=user, artifact=artifact, described=described,
                           source=VersionSource.UPLOAD, prefill=prefill, description=description)


def model_version_file(*, version: ModelVersion) -> bytes:
    """The version's model file, after its sha256 is checked (Conflict, checksum_mismatch, when it fails)."""
    return _model_bytes(version.artifact, str(version))


def model_version_load(*, version: ModelVersion) -> ModelDescription:
    """Load the version's model as a check: its file's sha256 first, then the format's own checks (a bundle's
    estimator checksum, skops' trust list). Raises Conflict (checksum_mismatch) for a changed file."""
    data = _model_bytes(version.artifact, str(version))
    try:
        return describe_model(data, filename=f"model.{SUFFIXES.get(version.format, 'unknown')}")
    except ModelFormatError as error:
        raise Conflict(f"{version} could not be loaded: {error.message}", code="not_loadable") from None


def model_version_integrity(*, version: ModelVersion) -> str:
    """'' when the stored file matches its sha256, else the reason it is refused (for pages)."""
    try:
        artifact_path(version.artifact, verify=True)
    except ArtifactCorrupted:
        return TAMPERED.format(version=version)
    return ""


# --- approval and aliases ------------------------------------------------------------------------------------

def model_version_approval_set(*, version: ModelVersion, user, status: str, comment: str = "") -> ApprovalEvent:
    require(user=user, project=version.group.project, activity=Activity.APPROVE_MODELS)
    if status not in ApprovalStatus.values:
        raise UserError(f"Unknown approval status '{status}'; choose one of: {', '.join(ApprovalStatus.values)}.",
                        field="status")
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(id=version.id)
        if locked.approval_status == status:
            raise Conflict(f"{version} is {ApprovalStatus(status).label.lower()} already.", field="status")
        event = ApprovalEvent.objects.create(version=locked, previous=locked.approval_status, status=status,
                                             comment=comment.strip()[:5000], by=user)
        locked.approval_status = status
        locked.save(update_fields=["approval_status"])
        audit_record(actor=user, action="model_version.approval", project=version.group.project,
                     summary=f"{version}: {event.previous} → {status}")
    version.approval_status = status
    return event


def model_alias_set(*, group: ModelGroup, user, name: str, version: ModelVersion) -> ModelAlias:
    """Point an alias at a version: made if new, moved if it pointed elsewhere."""
    require(user=user, project=group.project, activity=Activity.MANAGE_MODELS)
    name = name.strip()
    if not ALIAS_RE.match(name):
        raise UserError("An alias is 1 to 50 lower-case letters, digits, hyphens or underscores (like 'champion').",
                        field="name")
    if version.group_id != group.id:
        raise UserError(f"{version} is not a version of {group.name}.", field="version")
    with transaction.atomic():
        alias, _ = ModelAlias.objects.update_or_create(group=group, name=name,
                                                       defaults={"version": version, "set_by": user})
        audit_record(actor=user, action="model_alias.set", project=group.project,
                     summary=f"{group.name}: alias {name} → v{version.number}")
    return alias


def model_alias_remove(*, group: ModelGroup, user, name: str) -> None:
    require(user=user, project=group.project, activity=Activity.MANAGE_MODELS)
    if not name:
        raise UserError("Name the alias to remove.", field="name")
    deleted, _ = ModelAlias.objects.filter(group=group, name=name).delete()
    if not deleted:
        raise NotFound(f"{group.name} has no alias called '{name}'.", field="name")
    audit_record(actor=user, action="model_alias.remove", project=group.project,
                 summary=f"{group.name}: removed alias {name}")


# --- model cards ---------------------------------------------------------------------------------------------

def card_content(card: ModelCard) -> dict[str, Any]:
    content: dict[str, Any] = {"status": card.status, "risk_rating": card.risk_rating}
    content.update({name: getattr(card, name) for name, _ in CARD_TEXT_FIELDS})
    content["custom_fields"] = list(card.custom_fields)
    return content


def _revision_add(card: ModelCard, user) -> CardRevision:
    number = (card.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
    return CardRevision.objects.create(card=card, number=number, content=card_content(card), by=user)


def _custom_fields(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_CUSTOM_FIELDS:
        raise UserError(f"Custom fields are a list of at most {MAX_CUSTOM_FIELDS} {{key, value}} pairs.",
                        field="custom_fields")
    out = []
    for entry in value:
        if not isinstance(entry, dict) or not str(entry.get("key", "")).strip():
            raise UserError("Every custom field needs a key.", field="custom_fields")
        out.append({"key": str(entry["key"]).strip()[:200], "value": str(entry.get("value", ""))[:5000]})
    return out


def model_card_update(*, card: ModelCard, user, changes: dict[str, Any]) -> ModelCard:
    """Change some of the card's fields and save a new revision. Only a role that may approve models may set
    the card's status to Approved."""
    project = card.version.group.project
    require(user=user, project=project, activity=Activity.MANAGE_MODELS)
    text_fields = {name for name, _ in CARD_TEXT_FIELDS}
    unknown = set(changes) - text_fields - {"status", "risk_rating", "custom_fields"}
    if unknown:
        raise UserError(f"A model card has no field '{sorted(unknown)[0]}'.")
    if "status" in changes:
        if changes["status"] not in CardStatus.values:
            raise UserError(f"Unknown card status; choose one of: {', '.join(CardStatus.values)}.", field="status")
        if changes["status"] == CardStatus.APPROVED and card.status != CardStatus.APPROVED:
            require(user=user, project=project, activity=Activity.APPROVE_MODELS)
    if "risk_rating" in changes and changes["risk_rating"] not in RiskRating.values:
        raise UserError(f"The risk rating is one of: {', '.join(RiskRating.values)}.", field="risk_rating")
    if "custom_fields" in changes:
        changes = {**changes, "custom_fields": _custom_fields(changes["custom_fields"])}
    for name in text_fields & set(changes):
        if not isinstance(changes[name], str):
            raise UserError("This field is text.", field=name)
    with transaction.atomic():
        for name, value in changes.items():
            setattr(card, name, value)
        card.updated_by = user
        card.save()
        revision = _revision_add(card, user)
        audit_record(actor=user, action="model_card.update", project=project,
                     summary=f"Saved revision {revision.number} of the card of {card.version}")
    return card
