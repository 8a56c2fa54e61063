"""The run search language, as MLflow writes it: comparisons joined by `and`.

    metrics.auc > 0.9 and params.max_depth = 6
    tags.team = 'vision'                    attributes.status = 'FINISHED'
    params.algorithm != 'xgboost'           params.optimizer LIKE 'ad%'
    metrics.`val loss` <= 3.5               tags."mlflow.user" ILIKE '%ada%'

An identifier is `<kind>.<key>` (kinds: metrics/metric, params/param/parameters, tags/tag,
attributes/attribute/attr/run), the key bare or quoted with backticks or double quotes when it holds spaces,
dots or dashes. Values are numbers or strings in single or double quotes. Operators: = != < <= > >= and, for
strings, LIKE / ILIKE (% any run of characters, _ one character). Only `and` joins comparisons, as in MLflow.
Parsing never touches a database: the result is a list of `Comparison`s that a store turns into its own query.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["metric", "param", "tag", "attribute"]
Value = float | str

KIND_ALIASES: dict[str, Kind] = {
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param", "parameters": "param", "parameter": "param",
    "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute", "run": "attribute",
}
# Attribute names as MLflow spells them → the name the studio keeps them under.
ATTRIBUTES: dict[str, str] = {
    "status": "status", "run_name": "name", "name": "name", "run_id": "uuid", "run_uuid": "uuid", "id": "uuid",
    "source": "source", "start_time": "started_at", "end_time": "ended_at", "user_id": "created_by",
}
NUMERIC_ATTRIBUTES = {"started_at", "ended_at"}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPERATORS = ("LIKE", "ILIKE")
MAX_FILTER_LENGTH = 4000


class SearchError(Exception):
    """A filter that cannot be read. `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Comparison:
    kind: Kind
    key: str  # for attributes: the studio's field name (see ATTRIBUTES)
    operator: str  # one of COMPARISONS or STRING_OPERATORS
    value: Value

    @property
    def numeric(self) -> bool:
        return isinstance(self.value, float)


@dataclass(frozen=True)
class OrderBy:
    kind: Kind
    key: str
    descending: bool = False


@dataclass(frozen=True)
class _Token:
    kind: str  # identifier, operator, number, string, and, end
    text: str
    position: int
    value: Value | None = None


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_PART = re.compile(r"[A-Za-z0-9_:/\-]+")


def _at(position: int) -> str:
    return f"at position {position + 1}"


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The text between the quote at `start` and its closing quote; a doubled quote stands for itself."""
    index, parts = start + 1, []
    while index < len(text):
        char = text[index]
        if char == quote:
            if index + 1 < len(text) and text[index + 1] == quote:
                parts.append(quote)
                index += 2
                continue
            return "".join(parts), index + 1
        if char == "\\" and index + 1 < len(text):
            parts.append(text[index + 1])
            index += 2
            continue
        parts.append(char)
        index += 1
    raise SearchError(f"The quote {quote} opened {_at(start)} is never closed.", position=start)


def _identifier(text: str, start: int) -> tuple[_Token, int]:
    word = _WORD.match(text, start)
    assert word is not None
    prefix, index = word.group(), word.end()
    if index >= len(text) or text[index] != ".":
        raise SearchError(f"'{prefix}' {_at(start)} is not a key: write metrics.<name>, params.<name>, "
                          "tags.<name> or attributes.<name>.", position=start)
    if prefix.lower() not in KIND_ALIASES:
        raise SearchError(f"Unknown kind '{prefix}' {_at(start)}: use metrics, params, tags or attributes.",
                          position=start)
    index += 1
    if index < len(text) and text[index] in "`\"":
        key, index = _quoted(text, index, text[index])
    else:
        part = _KEY_PART.match(text, index)
        if part is None:
            raise SearchError(f"A key name is missing after '{prefix}.' {_at(index)}.", position=index)
        key, index = part.group(), part.end()
    if not key:
        raise SearchError(f"The key name after '{prefix}.' {_at(start)} is empty.", position=start)
    return _Token("identifier", f"{prefix}.{key}", start, f"{prefix.lower()}\0{key}"), index


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "'\"":
            value, end = _quoted(text, index, char)
            tokens.append(_Token("string", text[index:end], index, value))
            index = end
        elif text.startswith(("!=", "<=", ">=", "=="), index):
            operator = "=" if text.startswith("==", index) else text[index:index + 2]
            tokens.append(_Token("operator", operator, index))
            index += 2
        elif char in "=<>":
            tokens.append(_Token("operator", char, index))
            index += 1
        elif (number := _NUMBER.match(text, index)) and not _WORD.match(text, number.end()):
            tokens.append(_Token("number", number.group(), index, float(number.group())))
            index = number.end()
        elif _WORD.match(text, index):
            word = _WORD.match(text, index)
            assert word is not None
            upper = word.group().upper()
            if upper in ("AND",):
                tokens.append(_Token("and", word.group(), index))
                index = word.end()
            elif upper in STRING_OPERATORS:
                tokens.append(_Token("operator", upper, index))
                index = word.end()
            elif upper in ("OR", "NOT"):
                raise SearchError(f"'{word.group()}' {_at(index)} is not supported: only 'and' joins comparisons.",
                                  position=index)
            else:
                token, index = _identifier(text, index)
                tokens.append(token)
        else:
            raise SearchError(f"Unexpected character '{char}' {_at(index)}.", position=index)
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _comparison(identifier: _Token, operator: _Token, value: _Token) -> Comparison:
    assert isinstance(identifier.value, str)
    prefix, key = identifier.value.split("\0", 1)
    kind = KIND_ALIASES[prefix]
    op = operator.text
    if kind == "attribute":
        if key not in ATTRIBUTES:
            raise SearchError(f"Unknown attribute '{key}' {_at(identifier.position)}; known: "
                              f"{', '.join(sorted(set(ATTRIBUTES)))}.", position=identifier.position)
        key = ATTRIBUTES[key]
    string_only = kind == "tag" or (kind == "attribute" and key not in NUMERIC_ATTRIBUTES)
    if op in STRING_OPERATORS:
        if value.kind != "string":
            raise SearchError(f"{op} {_at(operator.position)} needs a quoted string pattern, like '%abc%'.",
                              position=value.position)
        if kind == "metric":
            raise SearchError(f"{op} {_at(operator.position)} compares strings; metrics are numbers.",
                              position=operator.position)
    elif kind == "metric" and value.kind != "number":
        raise SearchError(f"{identifier.text} is a metric: compare it with a number, not {value.text} "
                          f"({_at(value.position)}).", position=value.position)
    elif string_only and op not in ("=", "!="):
        raise SearchError(f"{identifier.text} holds text: use =, !=, LIKE or ILIKE, not {op} "
                          f"({_at(operator.position)}).", position=operator.position)
    elif kind == "param" and op not in ("=", "!=") and value.kind != "number":
        raise SearchError(f"{op} {_at(operator.position)} compares numbers: give a number for {identifier.text}.",
                          position=value.position)
    assert value.value is not None
    parsed: Value = value.value
    if kind == "param" and isinstance(parsed, str) and op in ("=", "!="):
        number = as_number(parsed)  # '6' and 6 mean the same
        parsed = parsed if number is None else number
    if string_only and not isinstance(parsed, str):
        parsed = value.text  # attributes.status = 1 compares the text '1'
    if kind == "attribute" and key == "status" and isinstance(parsed, str) and op in COMPARISONS:
        parsed = parsed.upper()
    return Comparison(kind, key, op, parsed)


def parse_filter(text: str | None) -> list[Comparison]:
    """The comparisons of a filter (empty for an empty filter); SearchError says what is wrong and where."""
    if text is None or not text.strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise SearchError(f"The filter is longer than {MAX_FILTER_LENGTH} characters.", position=MAX_FILTER_LENGTH)
    tokens = tokenize(text)
    comparisons, index = [], 0
    while True:
        identifier, operator, value = tokens[index:index + 3]
        if identifier.kind != "identifier":
            found = "the end of the filter" if identifier.kind == "end" else f"'{identifier.text}'"
            raise SearchError(f"Expected a key such as metrics.auc {_at(identifier.position)}, found {found}.",
                              position=identifier.position)
        if operator.kind != "operator":
            found = "the end of the filter" if operator.kind == "end" else f"'{operator.text}'"
            raise SearchError(f"Expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE) after {identifier.text} "
                              f"{_at(operator.position)}, found {found}.", position=operator.position)
        if value.kind not in ("number", "string"):
            found = "the end of the filter" if value.kind == "end" else f"'{value.text}'"
            raise SearchError(f"Expected a number or a quoted string after {identifier.text} {operator.text} "
                              f"{_at(value.position)}, found {found}.", position=value.position)
        comparisons.append(_comparison(identifier, operator, value))
        joiner = tokens[index + 3]
        if joiner.kind == "end":
            return comparisons
        if joiner.kind != "and":
            raise SearchError(f"Expected 'and' or the end of the filter {_at(joiner.position)}, found "
                              f"'{joiner.text}'.", position=joiner.position)
        if tokens[index + 4].kind == "end":
            raise SearchError(f"The filter ends with 'and' {_at(joiner.position)}; add a comparison after it.",
                              position=joiner.position)
        index += 4


def parse_order_by(text: str | None) -> OrderBy | None:
    """`metrics.auc DESC`, `params.lr`, `attributes.start_time ASC`; None for an empty text."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    descending = False
    match = re.search(r"\s+(asc|desc)$", stripped, flags=re.IGNORECASE)
    if match:
        descending = match.group(1).lower() == "desc"
        stripped = stripped[: match.start()]
    if stripped.startswith("-"):
        descending, stripped = True, stripped[1:]
    if not _WORD.match(stripped):
        raise SearchError(f"Order by a key such as metrics.auc DESC, not '{text.strip()}'.", position=0)
    token, end = _identifier(stripped, 0)
    if end != len(stripped):
        raise SearchError(f"Unexpected text '{stripped[end:]}' {_at(end)} in the order.", position=end)
    assert isinstance(token.value, str)
    prefix, key = token.value.split("\0", 1)
    kind = KIND_ALIASES[prefix]
    if kind == "attribute":
        if key not in ATTRIBUTES:
            raise SearchError(f"Unknown attribute '{key}'; known: {', '.join(sorted(set(ATTRIBUTES)))}.",
                              position=0)
        key = ATTRIBUTES[key]
    return OrderBy(kind, key, descending)


def as_number(text: object) -> float | None:
    """A param's value as a finite number when it reads as one ('6', '0.1', '1e-3'), else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        number = float(text)
    elif isinstance(text, str) and _NUMBER.fullmatch(text.strip()):
        number = float(text.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def like_regex(pattern: str) -> str:
    """A LIKE pattern (% any run, _ one character) as an anchored regular expression."""
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return "^" + "".join(parts) + "$"
