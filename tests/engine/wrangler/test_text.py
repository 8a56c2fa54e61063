"""Text transforms: Python regular expressions with clear errors, stable output columns, TF-IDF as
scikit-learn computes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame


def test_a_regex_syntax_error_names_the_pattern():
    with pytest.raises(TransformError, match=r"The pattern '\(unclosed' is not a valid regular expression") as caught:
        flow_run(sample_frame(), [Step("regex_extract", {"column": "review", "pattern": "(unclosed"})])
    assert caught.value.param == "pattern"


def test_regex_replace_rejects_a_replacement_with_a_missing_group():
    with pytest.raises(TransformError, match="groups the pattern has") as caught:
        flow_run(sample_frame(), [Step("regex_replace", {"column": "review", "pattern": "good",
                                                          "replacement": r"\1"})])
    assert caught.value.param == "replacement"


def test_regex_extract_takes_the_first_group_and_leaves_non_matches_missing():
    frame = pd.DataFrame({"code": pd.Series(["AB-12", "none", None], dtype="string")})
    result = flow_run(frame, [Step("regex_extract", {"column": "code", "pattern": r"-(\d+)", "new_column": "n"})])
    assert result.frame["n"].iloc[0] == "12"
    assert result.frame["n"].isna().tolist() == [False, True, True]


def test_split_text_always_makes_max_parts_columns():
    frame = pd.DataFrame({"tags": pd.Series(["a", "a,b", "a,b,c,d"], dtype="string")})
    result = flow_run(frame, [Step("split_text", {"column": "tags", "separator": ",", "max_parts": 3})])
    assert list(result.frame.columns) == ["tags", "tags_1", "tags_2", "tags_3"]
    assert result.frame["tags_3"].iloc[2] == "c,d"
    assert result.frame["tags_2"].isna().iloc[0]


def test_char_stats_counts_characters():
    frame = pd.DataFrame({"note": pd.Series(["Hi 42, OK!"], dtype="string")})
    result = flow_run(frame, [Step("char_stats", {"column": "note"})])
    row = result.frame.iloc[0]
    assert (row["note_digits"], row["note_uppercase"], row["note_punctuation"], row["note_spaces"]) == (2, 3, 2, 2)


def test_text_case_and_strip_unify_spellings():
    result = flow_run(sample_frame(), [Step("text_strip", {"column": "city"}), Step("text_case", {"column": "city"})])
    assert set(result.frame["city"].dropna()) == {"paris", "lyon", "lille", "nice", "brest"}


def test_tfidf_top_k_matches_scikit_learn_on_the_same_vocabulary():
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = sample_frame()
    result = flow_run(frame, [Step("tfidf_top_k", {"column": "review", "k": 4})])
    terms = result.states[0]["terms"]
    vectorizer = TfidfVectorizer(vocabulary=terms).fit(frame["review"].tolist())
    expected = vectorizer.transform(frame["review"].tolist()).toarray()
    ours = result.frame[[f"review_tfidf_{term}" for term in terms]].to_numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_tfidf_top_k_keeps_the_training_vocabulary_for_new_rows():
    step = Step("tfidf_top_k", {"column": "text", "k": 2})
    fitted = flow_run(pd.DataFrame({"text": ["red car", "red bike", "blue car"]}), [step])
    later = flow_run(pd.DataFrame({"text": ["green boat"]}), [step], states=fitted.states)
    assert list(later.frame.columns) == ["text", "text_tfidf_car", "text_tfidf_red"]
    assert later.frame.iloc[0, 1:].tolist() == [0.0, 0.0]
