"""Forms for the account and admin pages. They validate input; the services do the writes and raise
UserError for anything the form cannot know (a taken name, the last Admin), which views put back on the form."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.roles import Role


class StudioForm(forms.Form):
    def add_user_error(self, error: UserError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match an active account.",
    }


class TokenCreateForm(StudioForm):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'nightly retrain script'.")


class UserCreateForm(StudioForm):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z", max_length=150,
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    email = forms.EmailField(required=False)
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to generate one; it is shown once.",
    )
    site_admin = forms.BooleanField(required=False, label="Studio administrator")


class MemberAddForm(StudioForm):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)


class MemberRoleForm(StudioForm):
    role = forms.ChoiceField(choices=Role.choices)


class ProjectCreateForm(StudioForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, label="User")
    action = forms.CharField(required=False, label="Action contains")
    project = forms.ModelChoiceField(
        queryset=Project.objects.all(), required=False, to_field_name="slug", empty_label="All projects",
    )
