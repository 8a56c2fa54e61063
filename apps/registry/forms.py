"""Forms of the registry pages; the services check everything again."""

from __future__ import annotations

from typing import Any

from django import forms

from engine.registry.formats import ACCEPTED_EXTENSIONS, accepted_formats_text

from .models import CARD_TEXT_FIELDS, ApprovalStatus, CardStatus, RiskRating


class GroupForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Letters, digits, hyphens and underscores, e.g. churn-model.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RegisterForm(forms.Form):
    group = forms.ChoiceField(required=False, label="Model group")
    new_group = forms.CharField(required=False, max_length=63, label="or a new group named")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(required=False, label="Model file",
                           help_text=f"Accepted: {accepted_formats_text()}. Pickle and joblib files are never "
                                     "loaded. Torch weights are not accepted yet.",
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}))

    def __init__(self, *args: Any, groups: list[tuple[str, str]], upload: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "(a new group)"), *groups]
        if not upload:
            del self.fields["file"]
        else:
            self.fields["file"].required = True


class ApprovalForm(forms.Form):
    status = forms.ChoiceField(choices=ApprovalStatus.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AliasForm(forms.Form):
    name = forms.CharField(max_length=50, help_text="e.g. champion or challenger")
    version = forms.ChoiceField()

    def __init__(self, *args: Any, versions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = versions


class CardForm(forms.Form):
    status = forms.ChoiceField(choices=CardStatus.choices)
    risk_rating = forms.ChoiceField(choices=RiskRating.choices)
    custom_fields = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="One 'key: value' per line.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in CARD_TEXT_FIELDS:
            self.fields[name] = forms.CharField(label=label, required=False,
                                                widget=forms.Textarea(attrs={"rows": 4}))

    def clean_custom_fields(self) -> list[dict[str, str]]:
        entries = []
        for number, line in enumerate(self.cleaned_data["custom_fields"].splitlines(), start=1):
            if not line.strip():
                continue
            key, separator, value = line.partition(":")
            if not separator or not key.strip():
                raise forms.ValidationError(f"Line {number} is not 'key: value'.")
            entries.append({"key": key.strip(), "value": value.strip()})
        return entries

    @staticmethod
    def custom_fields_text(entries: list[dict[str, str]]) -> str:
        return "\n".join(f"{entry['key']}: {entry['value']}" for entry in entries)
