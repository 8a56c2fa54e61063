"""The generated script and notebook rebuild the best model from a CSV with plain scikit-learn."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from engine.automl import automl_run, generated_code


def _run_script(tmp_path, script: str, frame) -> float:
    (tmp_path / "model.py").write_text(script)
    frame.to_csv(tmp_path / "data.csv", index=False)
    result = subprocess.run([sys.executable, str(tmp_path / "model.py"), str(tmp_path / "data.csv")],
                            capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return float(re.search(r"validation \w+: ([-0-9.]+)", result.stdout).group(1))


def test_the_script_reproduces_the_score_on_a_csv(tmp_path, cancer_result, cancer) -> None:
    code = generated_code(cancer_result)
    score = _run_script(tmp_path, code["script"], cancer)
    assert score == pytest.approx(cancer_result.best_score, abs=0.03)


def test_the_script_handles_categories_and_missing_values(tmp_path, penguins) -> None:
    result = automl_run(penguins, target="species", budget_seconds=30, max_trials=2,
                        algorithms=["linear_learner", "random_forest"], metric="accuracy")
    code = generated_code(result)
    assert "OneHotEncoder" in code["script"]
    score = _run_script(tmp_path, code["script"], penguins)
    assert score == pytest.approx(result.best_score, abs=0.05)


def test_the_notebook_is_nbformat_4_with_runnable_cells(cancer_result) -> None:
    notebook = generated_code(cancer_result)["notebook"]
    assert notebook["nbformat"] == 4 and notebook["cells"][0]["cell_type"] == "markdown"
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code_cells and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code_cells)
    for cell in code_cells:
        compile("".join(cell["source"]), "cell", "exec")
    assert "model = main(PATH)" in "".join(code_cells[-1]["source"])
