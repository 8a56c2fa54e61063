"""The formula language of formula columns and row filters: a small, safe expression language evaluated
vectorised on the columns of a frame. It is never Python's eval: the text is parsed with `ast` and only an
allowlist of nodes is walked.

    income / 12 + 100                       arithmetic: + - * / // % ** and unary minus
    age >= 18 and city == "Paris"          comparisons, and / or / not
    `first name` + " " + col("last name")  awkward column names
    "adult" if age >= 18 else "minor"       conditions
    round(log(income), 2), coalesce(a, b)   a fixed table of functions (formula_functions())

The functions below are copied into exported scripts (transforms name them in `uses=`), so they hold their
own tables and import nothing but pandas, numpy and the standard library.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import TransformError


def formula_functions() -> tuple[str, ...]:
    """The functions a formula may call (the flow builder lists them)."""
    return (
        "abs", "round", "floor", "ceil", "log", "log10", "exp", "sqrt", "min", "max", "lower", "upper", "strip",
        "len", "contains", "startswith", "endswith", "replace", "isnull", "notnull", "fillna", "coalesce", "year",
        "month", "day", "hour", "weekday", "number", "text", "col",
    )


def formula_tree(expression: str) -> Any:
    """Parse a formula into a checked `ast` tree, or raise TransformError saying what is wrong and where.
    Backtick-quoted names (`my column`) become col("my column") calls."""
    import ast

    functions = set(formula_functions())
    if not isinstance(expression, str) or not expression.strip():
        raise TransformError("Write a formula, for example: income / 12.", param="expression")
    if len(expression) > 2000:
        raise TransformError("The formula is longer than 2000 characters; split it over several steps.",
                             param="expression")
    # Rewrite `name` (outside string literals) as col("name").
    text, quote, index = [], "", 0
    while index < len(expression):
        char = expression[index]
        if quote:
            text.append(char)
            if char == "\\" and index + 1 < len(expression):
                text.append(expression[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            text.append(char)
        elif char == "`":
            end = expression.find("`", index + 1)
            if end < 0:
                raise TransformError(f"The backtick at position {index + 1} is never closed.", param="expression")
            text.append(f"col({expression[index + 1:end]!r})")
            index = end
        else:
            text.append(char)
        index += 1
    source = "".join(text).strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        # Python reports an incomplete formula ("age +") at offset 0: that is its end.
        position = error.offset if error.offset else len(source) + 1
        raise TransformError(f"The formula is not valid at position {position}: {error.msg}. Check the operators "
                             f"and parentheses there.", param="expression") from None
    except (RecursionError, MemoryError, ValueError):
        raise TransformError("The formula is too deeply nested.", param="expression") from None

    allowed = (
        ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
        ast.IfExp, ast.Call, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub,
        ast.UAdd, ast.Not, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    )
    names = {
        ast.Attribute: "attribute access (x.y)", ast.Subscript: "indexing (x[...])", ast.Lambda: "lambda",
        ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.DictComp: "comprehensions",
        ast.SetComp: "comprehensions", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dictionaries",
        ast.Set: "sets", ast.JoinedStr: "f-strings", ast.NamedExpr: "assignment (:=)", ast.Starred: "* arguments",
        ast.In: "'in'", ast.NotIn: "'not in'", ast.Is: "'is'", ast.IsNot: "'is not'", ast.BitAnd: "'&'",
        ast.BitOr: "'|'", ast.BitXor: "'^'", ast.Invert: "'~'", ast.LShift: "'<<'", ast.RShift: "'>>'",
        ast.MatMult: "'@'", ast.Await: "await", ast.Yield: "yield",
    }
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            what = names.get(type(node), type(node).__name__)
            raise TransformError(f"Not allowed in a formula: {what}. Use column names, numbers, text in quotes, "
                                 f"operators and the functions: {', '.join(sorted(functions))}.", param="expression")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise TransformError(f"The name {node.id!r} is not allowed in a formula.", param="expression")
        if isinstance(node, ast.Constant) and not (node.value is None or isinstance(node.value, bool | int | float | str)):
            raise TransformError(f"The value {node.value!r} is not allowed in a formula.", param="expression")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in functions:
                called = f"The function {node.func.id!r} is not available" if isinstance(node.func, ast.Name) \
                    else "Calling a method or an expression is not allowed"
                raise TransformError(f"{called} in formulas. Use one of: {', '.join(sorted(functions))}.",
                                     param="expression")
            if node.keywords:
                raise TransformError(f"{node.func.id}() takes no named arguments.", param="expression")
    return tree


def formula_evaluate(df: pd.DataFrame, expression: str) -> Any:
    """The value of a formula on `df`: a Series aligned on df's index, or a scalar when it uses no column."""
    import ast
    import operator

    tree = formula_tree(expression)
    columns = [str(column) for column in df.columns]

    def fail(message: str) -> TransformError:
        return TransformError(message, param="expression")

    def series(value: Any) -> pd.Series:
        if isinstance(value, pd.Series):
            return value
        return pd.Series(value, index=df.index, dtype=None if value is not None else "object")

    def column(name: Any) -> pd.Series:
        if not isinstance(name, str) or name not in df.columns:
            shown = ", ".join(repr(item) for item in columns[:20])
            more = "" if len(columns) <= 20 else f" and {len(columns) - 20} more"
            raise fail(f"There is no column {name!r}. Columns: {shown}{more}. Write names with spaces or "
                       f"symbols as `my column` or col(\"my column\").")
        return df[name]

    def numeric(value: Any, what: str) -> Any:
        if isinstance(value, pd.Series):
            if pd.api.types.is_bool_dtype(value.dtype) or not pd.api.types.is_numeric_dtype(value.dtype):
                raise fail(f"{what} needs numbers; use number(...) to convert text to numbers.")
            return value.astype("float64")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(f"{what} needs numbers, not {value!r}.")
        return float(value)

    def text(value: Any) -> Any:
        return value.astype("string") if isinstance(value, pd.Series) else (None if value is None else str(value))

    def dates(value: Any) -> pd.Series:
        return pd.to_datetime(series(value), errors="coerce")

    def condition(value: Any) -> Any:
        """True/False per row; a missing condition counts as false."""
        if isinstance(value, pd.Series):
            if not pd.api.types.is_bool_dtype(value.dtype):
                raise fail("and, or, not and 'if' need conditions, such as age > 18 or isnull(city); "
                           f"got {value.dtype} values.")
            return value.astype("boolean").fillna(False).astype(bool)
        if value is not None and not isinstance(value, bool):
            raise fail(f"and, or, not and 'if' need conditions, such as age > 18; got {value!r}.")
        return bool(value)

    def kind(value: Any) -> str:
        if isinstance(value, pd.Series):
            if value.isna().all():
                return "missing"
            if pd.api.types.is_bool_dtype(value.dtype):
                return "condition"
            if pd.api.types.is_numeric_dtype(value.dtype):
                return "number"
            return "date" if pd.api.types.is_datetime64_any_dtype(value.dtype) else "text"
        if value is None:
            return "missing"
        return {bool: "condition", int: "number", float: "number", str: "text"}.get(type(value), "text")

    def pairwise(values: list[Any], pick: Any) -> Any:
        first = series(numeric(values[0], "min/max"))
        second = series(numeric(values[1], "min/max"))
        out = pick(first.to_numpy(dtype="float64"), second.to_numpy(dtype="float64"))
        if not any(isinstance(value, pd.Series) for value in values):
            return float(out[0]) if len(out) else pick(float(values[0]), float(values[1]))
        return pd.Series(out, index=df.index)

    def elementwise(value: Any, function: Any, what: str) -> Any:
        number = numeric(value, what)
        with np.errstate(all="ignore"):
            if isinstance(number, pd.Series):
                return pd.Series(function(number.to_numpy(dtype="float64")), index=df.index)
            return float(function(np.float64(number)))

    def positive(function: Any) -> Any:
        return lambda values: np.where(values > 0, function(np.where(values > 0, values, 1.0)), np.nan)

    def string_method(value: Any, name: str, *args: Any, **options: Any) -> Any:
        values = series(text(value))
        result = getattr(values.str, name)(*args, **options)
        return result if isinstance(value, pd.Series) else result.iloc[0] if len(result) else None

    def longest(value: Any) -> int:
        if isinstance(value, pd.Series):
            lengths = value.astype("string").str.len()
            return int(lengths.max()) if lengths.notna().any() else 0
        return 0 if value is None else len(str(value))

    def text_fits(length: int) -> None:
        # Nested replace() or repeated + could build texts of gigabytes from a 2000-character formula.
        if length > 100_000:
            raise fail("The formula would make texts longer than 100,000 characters.")

    def coalesce(values: list[Any]) -> Any:
        kinds = {kind(value) for value in values} - {"missing"}
        if len(kinds) > 1:
            raise fail(f"fillna and coalesce need values of one kind; here they are {' and '.join(sorted(kinds))}. "
                       f"Use text(...) or number(...) to convert one.")
        out = series(values[0])
        for value in values[1:]:
            out = out.where(out.notna(), series(value))
        return out

    def call(name: str, args: list[Any]) -> Any:
        counts = {"round": (1, 2), "min": (2, 2), "max": (2, 2), "contains": (2, 2), "startswith": (2, 2),
                  "endswith": (2, 2), "replace": (3, 3), "fillna": (2, 2), "coalesce": (2, 20)}
        low, high = counts.get(name, (1, 1))
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise fail(f"{name}() takes {expected} argument(s), got {len(args)}.")
        first = args[0]
        if name == "col":
            return column(first)
        if name == "abs":
            return elementwise(first, np.abs, "abs()")
        if name == "round":
            digits = args[1] if len(args) > 1 else 0
            if isinstance(digits, bool) or not isinstance(digits, int) or not -15 <= digits <= 15:
                raise fail("round(x, digits) needs whole-number digits between -15 and 15.")
            return elementwise(first, lambda values: np.round(values, digits), "round()")
        if name in ("floor", "ceil", "exp", "sqrt", "log", "log10"):
            function = {"floor": np.floor, "ceil": np.ceil, "exp": np.exp, "sqrt": np.sqrt,
                        "log": positive(np.log), "log10": positive(np.log10)}[name]
            return elementwise(first, function, f"{name}()")
        if name == "min":
            return pairwise(args, np.minimum)  # a missing value stays missing
        if name == "max":
            return pairwise(args, np.maximum)
        if name in ("lower", "upper", "strip", "len"):
            return string_method(first, name)
        if name in ("contains", "startswith", "endswith"):
            if not isinstance(args[1], str):
                raise fail(f"{name}(text, part) needs the part as text in quotes.")
            if name == "contains":
                return string_method(first, name, args[1], regex=False)
            return string_method(first, name, args[1])
        if name == "replace":
            if not isinstance(args[1], str) or not isinstance(args[2], str):
                raise fail("replace(text, old, new) needs old and new as text in quotes.")
            if not args[1]:
                raise fail("replace(text, old, new) needs a non-empty old text.")
            # At worst every character is replaced: refuse texts that could outgrow the limit.
            text_fits(longest(first) * max(1, -(-len(args[2]) // len(args[1]))))
            return string_method(first, "replace", args[1], args[2], regex=False)
        if name == "isnull":
            return series(first).isna() if isinstance(first, pd.Series) else first is None
        if name == "notnull":
            return series(first).notna() if isinstance(first, pd.Series) else first is not None
        if name in ("fillna", "coalesce"):
            return coalesce(args)
        if name in ("year", "month", "day", "hour", "weekday"):
            parts = dates(first).dt
            return (parts.day_of_week if name == "weekday" else getattr(parts, name)).astype("Int64")
        if name == "number":
            if isinstance(first, pd.Series):
                return pd.to_numeric(first, errors="coerce")
            try:
                return None if first is None else float(first)
            except ValueError:
                return None
        if name == "text":
            return text(first)
        raise fail(f"The function {name!r} is not available in formulas.")

    arithmetic = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
                  ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
    comparisons = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                   ast.Gt: operator.gt, ast.GtE: operator.ge}

    def binary(node: ast.BinOp) -> Any:
        left, right = walk(node.left), walk(node.right)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
                  ast.Pow: "**"}[type(node.op)]
        texts = [isinstance(value, str) or (isinstance(value, pd.Series) and not pd.api.types.is_numeric_dtype(
            value.dtype) and not pd.api.types.is_datetime64_any_dtype(value.dtype)) for value in (left, right)]
        if any(texts):
            if symbol != "+" or not all(texts):
                raise fail(f"'{symbol}' cannot combine text with numbers; use text(...) or number(...) to convert.")
            text_fits(longest(left) + longest(right))
            if not any(isinstance(value, pd.Series) for value in (left, right)):
                return left + right
            return series(text(left)) + series(text(right))
        if symbol == "**":
            # A huge exponent would make Python compute a number with billions of digits: cap it.
            base, exponent = numeric(left, "'**'"), numeric(right, "'**'")
            largest = exponent.abs().max() if isinstance(exponent, pd.Series) else abs(exponent)
            if isinstance(largest, float) and largest > 1000:
                raise fail("Exponents above 1000 are not allowed in formulas.")
            with np.errstate(all="ignore"):
                if isinstance(base, pd.Series) or isinstance(exponent, pd.Series):
                    return series(base) ** series(exponent)
                return float(np.power(np.float64(base), np.float64(exponent)))
        try:
            with np.errstate(all="ignore"):
                if not any(isinstance(value, pd.Series) for value in (left, right)) and symbol in ("/", "//", "%"):
                    left, right = np.float64(numeric(left, symbol)), np.float64(numeric(right, symbol))
                    return float(arithmetic[type(node.op)](left, right))
                return arithmetic[type(node.op)](left, right)
        except (TypeError, ValueError, NotImplementedError) as error:
            raise fail(f"'{symbol}' cannot be applied here: {error}.") from None

    def compare(node: ast.Compare) -> Any:
        result: Any = True
        left = walk(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = walk(right_node)
            try:
                if left is None or right is None:
                    if op.__class__ not in (ast.Eq, ast.NotEq):
                        raise fail("Only == and != can compare with None; or use isnull(x).")
                    other = right if left is None else left
                    missing = series(other).isna() if isinstance(other, pd.Series) else other is None
                    step = missing if isinstance(op, ast.Eq) else ~missing if isinstance(missing, pd.Series) else (
                        not missing)
                else:
                    step = comparisons[type(op)](left, right)
            except TypeError as error:
                raise fail(f"These values cannot be compared: {error}. Compare numbers with numbers and text "
                           f"with text in quotes.") from None
            result = step if result is True else condition(result) & condition(step)
            left = right
        return result

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > 2**53:
                return float(node.value)
            return node.value
        if isinstance(node, ast.Name):
            return column(node.id)
        if isinstance(node, ast.BinOp):
            return binary(node)
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            if isinstance(node.op, ast.Not):
                value = condition(operand)
                return ~value if isinstance(value, pd.Series) else not value
            number = numeric(operand, "'-'")
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.BoolOp):
            values = [condition(walk(item)) for item in node.values]
            result = values[0]
            for value in values[1:]:
                if isinstance(node.op, ast.And):
                    result = (result & value) if isinstance(result, pd.Series) or isinstance(value, pd.Series) \
                        else (result and value)
                else:
                    result = (result | value) if isinstance(result, pd.Series) or isinstance(value, pd.Series) \
                        else (result or value)
            return result
        if isinstance(node, ast.Compare):
            return compare(node)
        if isinstance(node, ast.IfExp):
            test, body, orelse = walk(node.test), walk(node.body), walk(node.orelse)
            kinds = {kind(body), kind(orelse)} - {"missing"}
            if len(kinds) > 1:
                # A column must hold one kind of value to be stored.
                raise fail(f"Both sides of 'x if condition else y' must be of one kind; here they are "
                           f"{' and '.join(sorted(kinds))}. Use text(...) or number(...) to convert one.")
            if not any(isinstance(value, pd.Series) for value in (test, body, orelse)):
                return body if condition(test) else orelse
            return series(body).where(series(condition(test)), series(orelse))
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return call(node.func.id, [walk(argument) for argument in node.args])
        raise fail(f"{type(node).__name__} is not allowed in a formula.")  # formula_tree lets none through

    try:
        value = walk(tree)
    except RecursionError:
        raise fail("The formula is too deeply nested.") from None
    except OverflowError:
        raise fail("A number in the formula is too large.") from None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        try:
            return float(value)
        except OverflowError:
            raise fail("The result is too large to store.") from None
    return value


formula_tree.uses = (TransformError, formula_functions)  # type: ignore[attr-defined]
formula_evaluate.uses = (TransformError, formula_tree)  # type: ignore[attr-defined]
