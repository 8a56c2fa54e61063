"""The formula language evaluates column arithmetic, conditions and a fixed table of functions, and refuses
everything else with a message, never running Python code."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.formula import formula_evaluate


@pytest.fixture
def frame():
    return pd.DataFrame({
        "age": [10.0, 25.0, None, 70.0],
        "income": [100.0, 2000.0, 300.0, None],
        "city": pd.Series(["Paris", "paris ", None, "Lyon"], dtype="string"),
        "first name": pd.Series(["Ann", "Bob", "Cy", "Di"], dtype="string"),
        "when": pd.to_datetime(["2024-01-31", "2024-02-29", "2023-12-01", None]),
    })


def test_it_computes_arithmetic_with_columns(frame):
    assert formula_evaluate(frame, "income / 100 + 1").tolist()[:3] == [2.0, 21.0, 4.0]
    assert formula_evaluate(frame, "-age * 2").tolist()[:2] == [-20.0, -50.0]


def test_it_evaluates_conditions_and_choices(frame):
    assert formula_evaluate(frame, "age >= 18 and income > 1000").tolist() == [False, True, False, False]
    assert formula_evaluate(frame, "10 < age < 80").tolist() == [False, True, False, True]
    assert formula_evaluate(frame, '"adult" if age >= 18 else "minor"').tolist() == ["minor", "adult", "minor", "adult"]


def test_it_reads_awkward_column_names_in_backticks_or_col(frame):
    assert formula_evaluate(frame, "lower(`first name`)").tolist() == ["ann", "bob", "cy", "di"]
    assert formula_evaluate(frame, 'upper(col("first name"))').tolist() == ["ANN", "BOB", "CY", "DI"]


def test_its_functions_work_on_columns(frame):
    assert formula_evaluate(frame, "coalesce(age, 0)").tolist() == [10.0, 25.0, 0.0, 70.0]
    assert formula_evaluate(frame, "isnull(city)").tolist() == [False, False, True, False]
    assert formula_evaluate(frame, 'contains(lower(city), "par")').fillna(False).tolist() == [True, True, False, False]
    assert formula_evaluate(frame, "month(when)").tolist()[:2] == [1, 2]
    assert formula_evaluate(frame, "max(age, 30)").tolist()[::3] == [30.0, 70.0]
    assert formula_evaluate(frame, "min(age, 30)").isna().tolist() == [False, False, True, False]
    assert formula_evaluate(frame, "round(sqrt(income), 1)").tolist()[:2] == [10.0, 44.7]


@pytest.mark.parametrize("expression, fragment", [
    ("__import__('os').system('echo hi')", "Calling a method"),
    ("__import__('os')", "'__import__' is not available"),
    ("().__class__.__bases__", "attribute access"),
    ("age.__class__", "attribute access"),
    ("__builtins__", "not allowed"),
    ("open('/etc/passwd')", "'open' is not available"),
    ("eval('1')", "'eval' is not available"),
    ("lambda: 1", "lambda"),
    ("[x for x in age]", "comprehensions"),
    ("age[0]", "indexing"),
    ("(age := 1)", "assignment"),
    ("f'{age}'", "f-strings"),
    ("round(age, ndigits=2)", "no named arguments"),
])
def test_it_refuses_anything_outside_the_language(frame, expression, fragment):
    with pytest.raises(TransformError) as caught:
        formula_evaluate(frame, expression)
    assert fragment in caught.value.message
    assert caught.value.param == "expression"


def test_it_caps_huge_exponents_instead_of_hanging(frame):
    started = time.perf_counter()
    for expression in ("10**10**10", "9**9**9**9", "age ** 100000"):
        with pytest.raises(TransformError, match="Exponents above 1000"):
            formula_evaluate(frame, expression)
    assert time.perf_counter() - started < 1


def test_it_refuses_repeating_text_which_could_fill_the_memory(frame):
    with pytest.raises(TransformError, match="cannot combine text with numbers"):
        formula_evaluate(frame, "'a' * 1000000000")


def test_a_syntax_error_gives_its_position(frame):
    with pytest.raises(TransformError, match="position 5"):
        formula_evaluate(frame, "age age")
    with pytest.raises(TransformError, match="not valid at position"):
        formula_evaluate(frame, "age +")


def test_an_unknown_column_lists_the_columns(frame):
    with pytest.raises(TransformError) as caught:
        formula_evaluate(frame, "salary * 2")
    assert "'salary'" in caught.value.message and "'income'" in caught.value.message


def test_deep_nesting_and_long_formulas_fail_cleanly(frame):
    for expression in ("(" * 400 + "1" + ")" * 400, "1+" * 1500 + "1", "-" * 1900 + "1"):
        with pytest.raises(TransformError):
            formula_evaluate(frame, expression)


def test_formula_column_and_filter_rows_use_the_language(frame):
    steps = [Step("formula_column", {"new_column": "monthly", "expression": "income / 12"}),
             Step("filter_rows", {"expression": "monthly > 10 and not isnull(city)"})]
    result = flow_run(frame, steps)
    assert result.frame["first name"].tolist() == ["Bob"]


def test_filter_rows_refuses_a_formula_that_is_not_a_condition(frame):
    with pytest.raises(TransformError, match="must be a condition"):
        flow_run(frame, [Step("filter_rows", {"expression": "income / 12"})])


def test_both_sides_of_a_choice_must_be_of_one_kind(frame):
    with pytest.raises(TransformError, match="must be of one kind"):
        formula_evaluate(frame, '"old" if age > 60 else 0')


def test_and_or_not_need_conditions(frame):
    with pytest.raises(TransformError, match="need conditions"):
        formula_evaluate(frame, "age and income")


def test_an_exported_script_evaluates_formulas_like_the_studio(frame, tmp_path, monkeypatch):
    import runpy
    import sys

    from engine.wrangler.export import flow_export_script

    frame = frame.drop(columns=["when"])
    steps = [Step("formula_column", {"new_column": "label", "expression":
                                     'upper(`first name`) + "-" + fillna(strip(city), "?") if age >= 18 else "minor"'}),
             Step("formula_column", {"new_column": "x", "expression": "round(log(coalesce(income, 1)) ** 2, 3)"}),
             Step("filter_rows", {"expression": "not contains(label, \"DI\")"})]
    result = flow_run(frame, steps)
    assert result.frame["label"].tolist() == ["minor", "BOB-paris", "minor"]
    script = tmp_path / "flow.py"
    script.write_text(flow_export_script(result, steps))
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    monkeypatch.setattr(sys, "argv", ["flow.py", str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet")])
    runpy.run_path(str(script), run_name="__main__")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"),
                                  result.frame.reset_index(drop=True))


def test_texts_cannot_be_grown_without_limit(frame):
    started = time.perf_counter()
    doubling = "city" + " + city" * 1
    for _ in range(12):
        doubling = f"replace({doubling}, 'a', '{'a' * 30}')"
    with pytest.raises(TransformError, match="longer than 100,000 characters"):
        formula_evaluate(frame, doubling)
    with pytest.raises(TransformError, match="non-empty old text"):
        formula_evaluate(frame, "replace(city, '', 'x')")
    assert time.perf_counter() - started < 2


def test_fillna_needs_a_value_of_the_same_kind(frame):
    with pytest.raises(TransformError, match="one kind"):
        formula_evaluate(frame, "fillna(age, 'unknown')")
