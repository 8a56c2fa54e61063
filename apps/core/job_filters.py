"""The one filter set for job lists, shared by the jobs page and the API (netbox-style).

Only the fields named in `JobFilterForm.lookups` ever reach the ORM: a query parameter is never used as a
lookup, and a value is only applied after the form has validated it against the user's own projects."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .jobs import JOB_KINDS
from .models import Job, JobStatus
from .selectors import AnyUser, job_list, project_list


class JobFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *JobStatus.choices])
    owner = forms.ChoiceField(required=False)
    project = forms.ChoiceField(required=False)

    # field -> ORM lookup: the explicit allowlist.
    lookups = {"kind": "kind", "status": "status", "owner": "owner__username", "project": "project__slug"}

    def __init__(self, data=None, *, user: AnyUser) -> None:
        super().__init__(data={key: data.get(key, "") for key in self.lookups} if data is not None else None)
        self.user = user
        visible = job_list(user=user)
        kinds = sorted(set(JOB_KINDS) | set(visible.order_by("kind").values_list("kind", flat=True).distinct()))
        self.fields["kind"].choices = [("", "Any kind"), *[(kind, kind) for kind in kinds]]
        owner_ids = visible.exclude(owner=None).order_by("owner").values_list("owner", flat=True).distinct()
        usernames = sorted(get_user_model().objects.filter(id__in=owner_ids).values_list("username", flat=True))
        self.fields["owner"].choices = [("", "Anyone"), *[(name, name) for name in usernames]]
        self.fields["project"].choices = [
            ("", "All my projects"), *project_list(user=user).values_list("slug", "name")
        ]

    def filter(self, queryset: QuerySet[Job] | None = None) -> QuerySet[Job]:
        """The user's jobs narrowed by every valid filter; an invalid value narrows nothing."""
        jobs = job_list(user=self.user) if queryset is None else queryset
        if not self.is_bound or not self.is_valid():
            return jobs
        chosen = {self.lookups[field]: value for field, value in self.cleaned_data.items() if value}
        return jobs.filter(**chosen)

    @property
    def active(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())
