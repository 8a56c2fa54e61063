"""Roles and the activities each may do, per project. The one place the matrix is written down:
the Role Manager page, the API, the permission checks and the docs all read it from here."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DATA_SCIENTIST = "data_scientist", "Data Scientist"
    ML_ENGINEER = "ml_engineer", "ML Engineer"
    ANALYST = "analyst", "Analyst"
    LABELER = "labeler", "Labeler"


class Activity(models.TextChoices):
    VIEW = "view", "View the project"
    VIEW_EXPERIMENTS = "view_experiments", "View experiments and runs"
    MANAGE_DATA = "manage_data", "Manage data"
    RUN_JOBS = "run_jobs", "Run jobs"
    RUN_CODE = "run_code", "Run custom code"
    MANAGE_MODELS = "manage_models", "Manage models"
    APPROVE_MODELS = "approve_models", "Approve models"
    DEPLOY_ENDPOINTS = "deploy_endpoints", "Deploy endpoints"
    LABEL = "label", "Label"
    MANAGE_USERS = "manage_users", "Manage users and roles"


A = Activity
ROLE_ACTIVITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(A.values),
    Role.DATA_SCIENTIST: frozenset(
        {A.VIEW, A.VIEW_EXPERIMENTS, A.MANAGE_DATA, A.RUN_JOBS, A.RUN_CODE, A.MANAGE_MODELS, A.LABEL}
    ),
    Role.ML_ENGINEER: frozenset(
        {A.VIEW, A.VIEW_EXPERIMENTS, A.MANAGE_DATA, A.RUN_JOBS, A.RUN_CODE, A.MANAGE_MODELS, A.APPROVE_MODELS,
         A.DEPLOY_ENDPOINTS}
    ),
    Role.ANALYST: frozenset({A.VIEW, A.VIEW_EXPERIMENTS, A.MANAGE_DATA, A.RUN_JOBS}),
    # Labelers see the data they label, not experiments and models.
    Role.LABELER: frozenset({A.VIEW, A.LABEL}),
}


def role_allows(role: str, activity: str) -> bool:
    return activity in ROLE_ACTIVITIES.get(role, frozenset())


def matrix() -> list[dict[str, object]]:
    """Rows of (activity, {role: allowed}) for pages and the API."""
    return [
        {
            "activity": activity.value,
            "label": activity.label,
            "roles": {role.value: role_allows(role, activity) for role in Role},
        }
        for activity in Activity
    ]
