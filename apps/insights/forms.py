"""The form that starts a report from the dataset page; the API's serializer takes the same fields."""

from __future__ import annotations

from django import forms

from .models import ProblemType


class ReportStartForm(forms.Form):
    target = forms.ChoiceField(required=False, help_text="Optional: the column a model would predict.")
    problem_type = forms.ChoiceField(choices=ProblemType.choices, required=False,
                                     help_text="Only with a target; empty means inferred from its values.")

    def __init__(self, *args, columns: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "No target")] + [(name, name) for name in columns]
