"""Forms of the dataset pages. The API's serializers take the same fields and call the same services."""

from __future__ import annotations

from django import forms

from engine.datasets.options import ENCODINGS, FORMATS
from engine.datasets.types import STUDIO_TYPES

from .models import DatasetVersion

FORMAT_CHOICES = [("", "From the file's extension")] + [(key, label) for key, (label, _) in FORMATS.items()]
ENCODING_CHOICES = list(ENCODINGS.items())
ACCEPT = ".csv,.tsv,.tab,.txt,.jsonl,.ndjson,.json,.parquet,.pq,.xlsx,.xlsm"


class ImportOptionsForm(forms.Form):
    file = forms.FileField(help_text="CSV, TSV, JSON lines, Parquet or Excel .xlsx.", allow_empty_file=True,
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)
    delimiter = forms.CharField(required=False, max_length=3, help_text="For CSV: , ; | or \\t for a tab. "
                                "Empty means comma (tab for TSV).", widget=forms.TextInput(attrs={"size": 3}))
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="utf-8", required=False)
    header_row = forms.IntegerField(min_value=0, max_value=1000, initial=1, required=False,
                                    help_text="The line with the column names; 0 if the file has none.")
    sheet = forms.CharField(required=False, max_length=120, help_text="Excel only; empty means the first sheet.")

    def options(self) -> dict[str, object]:
        data = self.cleaned_data
        return {"delimiter": data.get("delimiter") or "", "encoding": data.get("encoding") or "utf-8",
                "header_row": 1 if data.get("header_row") is None else data["header_row"],
                "sheet": data.get("sheet") or ""}


class UploadForm(ImportOptionsForm):
    name = forms.CharField(required=False, max_length=120, help_text="Empty means the file's name.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["file", "name", "description", "format", "delimiter", "encoding", "header_row", "sheet"]


class SchemaForm(forms.Form):
    """One type choice per column of a version."""

    def __init__(self, *args, version: DatasetVersion, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        for index, column in enumerate(version.schema):
            self.fields[f"type_{index}"] = forms.ChoiceField(
                label=column["name"], choices=[(t, t) for t in STUDIO_TYPES], initial=column["type"]
            )

    def rows(self):
        return [(column, self[f"type_{index}"]) for index, column in enumerate(self.version.schema)]

    def types(self) -> dict[str, str]:
        return {column["name"]: self.cleaned_data[f"type_{index}"] for index, column in enumerate(self.version.schema)}
