"""Text: case, whitespace, accents, regular expressions, splitting, length and character counts, and TF-IDF
features with a vocabulary learned from the training rows.

Regular expressions follow Python's `re` syntax and run row by row in Python, so the studio and an exported
script match the same way whatever string storage pandas picks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform

FAMILY = "Text"
COLUMN = Param("column", "column", help="a text column", dtype="text")
NEW_COLUMN = Param("new_column", "string", required=False, default="",
                   help="name of the output column; empty replaces the column")


def text_map(values: pd.Series, function: Any, dtype: str = "string") -> pd.Series:
    """`function` applied to each text value (numbers and other values as their text); missing stays missing."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("string")
    results = [pd.NA if pd.isna(value) else function(value) for value in values.astype(object)]
    if dtype == "object":  # lists stay one value per row
        series = pd.Series(index=values.index, dtype="object", name=values.name)
        series[:] = results
        return series
    return pd.Series(pd.array(results, dtype=dtype), index=values.index, name=values.name)


def compile_pattern(pattern: str, param: str = "pattern") -> Any:
    """The compiled regular expression, or a TransformError that names it and says what is wrong."""
    import re

    try:
        return re.compile(pattern)
    except re.error as error:
        raise TransformError(
            f"The pattern {pattern!r} is not a valid regular expression: {error.msg} at position {error.pos}. "
            f"Escape special characters such as ( [ . * + ? with a backslash to match them literally.",
            param=param) from None


compile_pattern.uses = (TransformError,)  # type: ignore[attr-defined]


@transform("text_case", family=FAMILY, description="Change text to lower case, upper case or title case.",
           params=[COLUMN, Param("case", "choice", choices=("lower", "upper", "title"), default="lower",
                                 required=False), NEW_COLUMN],
           example={"column": "city", "case": "lower"}, uses=(text_map,))
def text_case(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    change = {"lower": str.lower, "upper": str.upper, "title": str.title}[params["case"]]
    out = df.copy(deep=False)
    out[params["new_column"] or params["column"]] = text_map(df[params["column"]], change)
    return out


@transform("text_strip", family=FAMILY,
           description="Remove spaces (or the characters you give) at both ends of text, optionally collapsing "
                       "inner runs of spaces to one.",
           params=[COLUMN, Param("characters", "string", required=False, default="",
                                 help="characters to remove; empty means whitespace"),
                   Param("collapse_spaces", "boolean", required=False, default=False), NEW_COLUMN],
           example={"column": "city", "collapse_spaces": True}, uses=(text_map,))
def text_strip(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    characters = params["characters"] or None
    collapse = params["collapse_spaces"]

    def clean(text: str) -> str:
        text = text.strip(characters)
        return " ".join(text.split()) if collapse else text

    out = df.copy(deep=False)
    out[params["new_column"] or params["column"]] = text_map(df[params["column"]], clean)
    return out


@transform("strip_accents", family=FAMILY,
           description="Remove accents from letters (é becomes e) so spellings with and without them match.",
           params=[COLUMN, NEW_COLUMN], example={"column": "review"}, uses=(text_map,))
def strip_accents(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import unicodedata

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(character for character in decomposed if not unicodedata.combining(character))

    out = df.copy(deep=False)
    out[params["new_column"] or params["column"]] = text_map(df[params["column"]], plain)
    return out


@transform("regex_replace", family=FAMILY,
           description="Replace every match of a regular expression in text (the replacement may use \\1 for "
                       "groups).",
           params=[COLUMN, Param("pattern", "string", help="a Python regular expression"),
                   Param("replacement", "string", required=False, default=""), NEW_COLUMN],
           example={"column": "review", "pattern": r"\bpoor\b", "replacement": "bad"},
           uses=(text_map, compile_pattern))
def regex_replace(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import re

    compiled = compile_pattern(params["pattern"])
    replacement = params["replacement"] or ""
    try:
        compiled.sub(replacement, "")
    except (re.error, IndexError) as error:
        raise TransformError(f"The replacement {replacement!r} does not fit the pattern: {error}. Refer only to "
                             f"groups the pattern has (\\1 is the first).", param="replacement") from None
    out = df.copy(deep=False)
    out[params["new_column"] or params["column"]] = text_map(df[params["column"]],
                                                             lambda text: compiled.sub(replacement, text))
    return out


@transform("regex_extract", family=FAMILY,
           description="Put the first match of a regular expression (its first group, if it has one) in a new "
                       "column; rows without a match get a missing value.",
           params=[COLUMN, Param("pattern", "string", help="a Python regular expression"),
                   Param("new_column", "string", required=False, default="",
                         help="name of the output column; empty means '<column>_extract'")],
           example={"column": "attributes", "pattern": r'"color": "(\w+)"', "new_column": "color"},
           uses=(text_map, compile_pattern))
def regex_extract(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    compiled = compile_pattern(params["pattern"])

    def first(text: str) -> Any:
        match = compiled.search(text)
        if match is None:
            return pd.NA
        found = match.group(1) if compiled.groups else match.group(0)
        return pd.NA if found is None else found

    out = df.copy(deep=False)
    out[params["new_column"] or f"{params['column']}_extract"] = text_map(df[params["column"]], first)
    return out


@transform("text_contains", family=FAMILY,
           description="Add a true/false column saying whether text contains a word or pattern.",
           params=[COLUMN, Param("pattern", "string"),
                   Param("regex", "boolean", required=False, default=False,
                         help="read the pattern as a regular expression"),
                   Param("case_sensitive", "boolean", required=False, default=False),
                   Param("new_column", "string", required=False, default="",
                         help="name of the output column; empty means '<column>_contains'")],
           example={"column": "review", "pattern": "delivery", "new_column": "mentions_delivery"},
           uses=(text_map, compile_pattern))
def text_contains(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import re

    pattern = params["pattern"] if params["regex"] else re.escape(params["pattern"])
    compiled = compile_pattern(pattern if params["case_sensitive"] else f"(?i:{pattern})")
    found = text_map(df[params["column"]], lambda text: compiled.search(text) is not None, dtype="boolean")
    out = df.copy(deep=False)
    out[params["new_column"] or f"{params['column']}_contains"] = found.fillna(False).astype("bool")
    return out


@transform("split_text", family=FAMILY,
           description="Split text on a separator into a fixed number of new columns; the last one keeps the rest.",
           params=[COLUMN, Param("separator", "string", default=",", required=False),
                   Param("max_parts", "integer", default=2, required=False, minimum=2, maximum=50),
                   Param("prefix", "string", required=False, default="",
                         help="the new columns are <prefix>_1, <prefix>_2...; empty uses the column name")],
           example={"column": "tags", "separator": ",", "max_parts": 3}, uses=(text_map,))
def split_text(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    separator, parts = params["separator"], params["max_parts"]
    pieces = text_map(df[params["column"]], lambda text: text.split(separator, parts - 1), dtype="object")
    out = df.copy(deep=False)
    prefix = params["prefix"] or params["column"]
    for position in range(parts):
        out[f"{prefix}_{position + 1}"] = pd.Series(
            pd.array([piece[position] if isinstance(piece, list) and position < len(piece) else pd.NA
                      for piece in pieces], dtype="string"), index=df.index)
    return out


@transform("text_length", family=FAMILY, description="Add a column with the number of characters of each text.",
           params=[COLUMN, Param("new_column", "string", required=False, default="",
                                 help="name of the output column; empty means '<column>_length'")],
           example={"column": "review"}, uses=(text_map,))
def text_length(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    out[params["new_column"] or f"{params['column']}_length"] = text_map(df[params["column"]], len, dtype="Int64")
    return out


@transform("word_count", family=FAMILY,
           description="Add a column with the number of words (runs of non-space characters) of each text.",
           params=[COLUMN, Param("new_column", "string", required=False, default="",
                                 help="name of the output column; empty means '<column>_words'")],
           example={"column": "review"}, uses=(text_map,))
def word_count(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    out[params["new_column"] or f"{params['column']}_words"] = text_map(
        df[params["column"]], lambda text: len(text.split()), dtype="Int64")
    return out


@transform("char_stats", family=FAMILY,
           description="Add columns counting the digits, upper-case letters, punctuation marks and spaces of "
                       "each text.",
           params=[COLUMN], example={"column": "review"}, uses=(text_map,))
def char_stats(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    counters = {
        "digits": lambda text: sum(character.isdigit() for character in text),
        "uppercase": lambda text: sum(character.isupper() for character in text),
        "punctuation": lambda text: sum(not character.isalnum() and not character.isspace() for character in text),
        "spaces": lambda text: sum(character.isspace() for character in text),
    }
    out = df.copy(deep=False)
    for name, counter in counters.items():
        out[f"{column}_{name}"] = text_map(df[column], counter, dtype="Int64")
    return out


def text_tokens(text: str) -> list[str]:
    """Lower-case words of two or more letters or digits (scikit-learn's default token pattern)."""
    import re

    return re.findall(r"(?u)\b\w\w+\b", text.lower())


@transform("tfidf_top_k", family=FAMILY,
           description="Add TF-IDF columns for the k words found in the most training texts (vocabulary and "
                       "weights learned on the training rows).",
           params=[COLUMN, Param("k", "integer", default=10, required=False, minimum=1, maximum=500),
                   Param("prefix", "string", required=False, default="",
                         help="new columns are <prefix><word>; empty means '<column>_tfidf_'")],
           example={"column": "review", "k": 5}, row_local=True, uses=(text_map, text_tokens))
def tfidf_top_k(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    terms, idf = state["terms"], np.asarray(state["idf"], dtype="float64")
    position = {term: index for index, term in enumerate(terms)}
    documents = text_map(df[params["column"]], text_tokens, dtype="object")
    weights = np.zeros((len(df), len(terms)), dtype="float64")
    for row, tokens in enumerate(documents):
        if isinstance(tokens, list):
            for token in tokens:
                if token in position:
                    weights[row, position[token]] += 1.0
    weights *= idf
    # Each row is scaled to unit length over the kept words, so long and short texts compare.
    norms = np.sqrt((weights * weights).sum(axis=1))
    weights = np.divide(weights, norms[:, None], out=np.zeros_like(weights), where=norms[:, None] > 0)
    out = df.copy(deep=False)
    prefix = params["prefix"] or f"{params['column']}_tfidf_"
    for index, term in enumerate(terms):
        out[f"{prefix}{term}"] = weights[:, index]
    return out


@fitter("tfidf_top_k")
def _fit_tfidf_top_k(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    documents = text_map(df[params["column"]], text_tokens, dtype="object")
    counts: dict[str, int] = {}
    total = 0
    for tokens in documents:
        total += 1
        if isinstance(tokens, list):
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
    if not counts:
        raise TransformError(f"Column {params['column']!r} has no words in the training rows.", param="column")
    # The words in the most texts first; ties alphabetically so the columns are the same on every refit.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: params["k"]]
    terms = [term for term, _ in ranked]
    # Smoothed inverse document frequency, as scikit-learn's TfidfVectorizer computes it.
    idf = [float(np.log((1 + total) / (1 + count)) + 1.0) for _, count in ranked]
    return {"terms": terms, "idf": idf}
