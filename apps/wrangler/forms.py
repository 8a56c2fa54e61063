"""The typed parameter form of a step, generated from the transform's Param schema: reading it from a POST
and describing its fields (with the columns present at that step) for the template."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from engine.wrangler import Transform


def params_from_post(spec: Transform, data: QueryDict) -> dict[str, Any]:
    """Parameters as the form sent them. Empty fields are left out so defaults apply; numbers stay text here
    (the registry's check turns them into numbers, or names the field that is not one)."""
    params: dict[str, Any] = {}
    for param in spec.params:
        key = f"p_{param.name}"
        if param.kind == "boolean":
            params[param.name] = key in data
        elif param.kind == "columns":
            values = [value for value in data.getlist(key) if value]
            if values:
                params[param.name] = values
        elif param.kind == "mapping":
            text = data.get(key, "").strip()
            if text:
                params[param.name] = mapping_from_text(text)
        else:
            value = data.get(key, "")
            if value.strip() != "":
                params[param.name] = value.strip() if param.kind != "string" else value
    return params


def mapping_from_text(text: str) -> dict[str, str] | str:
    """"old=new" lines as a mapping; text that is not such lines is kept as is, so the step shows why."""
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        old, sep, new = line.partition("=")
        if not sep or not old.strip():
            return text
        mapping[old.strip()] = new.strip()
    return mapping


def mapping_text(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{old}={new}" for old, new in value.items())
    return "" if value is None else str(value)


def form_fields(spec: Transform, params: dict[str, Any], columns: list[str], datasets: list[tuple[str, str]],
                error_param: str | None = None, error: str = "") -> list[dict[str, Any]]:
    """One dict per parameter for templates/wrangler/_step_form.html."""
    fields = []
    for param in spec.params:
        schema = param.schema()
        value = params.get(param.name, param.default)
        field: dict[str, Any] = {**schema, "key": f"p_{param.name}", "value": value,
                                 "error": error if error_param == param.name else ""}
        if param.kind == "column":
            field["options"] = _with_missing(columns, [value] if isinstance(value, str) else [])
        elif param.kind == "columns":
            chosen = [value] if isinstance(value, str) else list(value or [])
            field["options"] = _with_missing(columns, chosen)
            field["chosen"] = chosen
        elif param.kind == "mapping":
            field["text"] = mapping_text(value)
            field["hint"] = "One per line: old=new. Columns here: " + ", ".join(columns[:20]) + (
                " …" if len(columns) > 20 else "")
        elif param.kind == "string_list":
            field["text"] = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        elif param.kind == "dataset":
            field["options"] = datasets
        fields.append(field)
    return fields


def _with_missing(columns: list[str], chosen: list[str]) -> list[dict[str, Any]]:
    """The columns at this step; a chosen column that is not there any more stays listed, marked missing, so
    the form shows what the step asks for and why it fails."""
    options = [{"name": name, "missing": False, "selected": name in chosen} for name in columns]
    options += [{"name": name, "missing": True, "selected": True} for name in chosen if name not in columns]
    return options
