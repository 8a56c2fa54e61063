"""Forms of the dataset pages. The API's serializers take the same fields and call the same services."""

from __future__ import annotations

from django import forms

from engine.datasets.options import ENCODINGS, FORMATS
from engine.datasets.types import STUDIO_TYPES

from .models import Connection, Dataset, DatasetStatus, DatasetVersion

FORMAT_CHOICES = [("", "From the file's extension")] + [(key, label) for key, (label, _) in FORMATS.items()]
ENCODING_CHOICES = list(ENCODINGS.items())
ACCEPT = ".csv,.tsv,.tab,.txt,.jsonl,.ndjson,.json,.parquet,.pq,.xlsx,.xlsm"


class FileOptionsForm(forms.Form):
    """How to read a file, wherever it comes from (an upload, S3, a server path)."""

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


class ImportOptionsForm(FileOptionsForm):
    file = forms.FileField(help_text="CSV, TSV, JSON lines, Parquet or Excel .xlsx.", allow_empty_file=True,
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    field_order = ["file", "format", "delimiter", "encoding", "header_row", "sheet"]


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


class NamedImportForm(forms.Form):
    name = forms.CharField(required=False, max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=120)
    url = forms.CharField(label="URL", max_length=500, widget=forms.TextInput(attrs={"size": 60}),
                          help_text="postgresql://user@host:5432/database, or sqlite:////path/to/file.db for a "
                                    "SQLite file in a directory an admin allowed. No password here.")
    password = forms.CharField(required=False, max_length=500, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, connection: Connection | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection is not None and connection.has_password:
            self.fields["password"].help_text = "A password is saved; leave empty to keep it."
            self.fields["clear_password"] = forms.BooleanField(required=False, label="Remove the saved password")
        else:
            self.fields["password"].help_text = "Stored encrypted; never shown again after saving."


class SqlImportForm(NamedImportForm):
    connection = forms.ModelChoiceField(queryset=Connection.objects.none(), empty_label=None)
    query = forms.CharField(widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
                            help_text="One SELECT or WITH statement; it runs read-only, with a time limit.")
    field_order = ["connection", "query", "name", "description"]

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.filter(project=project)
        self.fields["name"].help_text = "Empty means the connection's name."


class S3ImportForm(NamedImportForm, FileOptionsForm):
    uri = forms.CharField(label="S3 URI", max_length=1024, widget=forms.TextInput(attrs={"size": 60}),
                          help_text="s3://bucket/path/to/file.csv")
    field_order = ["uri", "name", "description", "format", "delimiter", "encoding", "header_row", "sheet"]


class PathImportForm(NamedImportForm, FileOptionsForm):
    path = forms.CharField(label="Server path", max_length=4096, widget=forms.TextInput(attrs={"size": 60}),
                           help_text="A file inside one of the directories listed above.")
    field_order = ["path", "name", "description", "format", "delimiter", "encoding", "header_row", "sheet"]


class VersionImportForm(NamedImportForm):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None, label="Dataset")
    version = forms.IntegerField(required=False, min_value=1, help_text="Empty means its current version.")
    columns = forms.CharField(required=False, max_length=20_000, widget=forms.TextInput(attrs={"size": 60}),
                              help_text="Column names separated by commas; empty copies every column.")
    field_order = ["dataset", "version", "columns", "name", "description"]

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.filter(project=project, status=DatasetStatus.READY)
        self.fields["name"].help_text = "Empty means <dataset>-v<N>-copy."

    def column_list(self) -> list[str]:
        return [name.strip() for name in (self.cleaned_data.get("columns") or "").split(",") if name.strip()]
