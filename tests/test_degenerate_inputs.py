"""outcomes.compare on degenerate tables: a clear message naming the column, or a row whose
estimate is empty with a note saying why. Never a traceback, never a silent NaN table.
(The cases a hostile tester found, issue 9.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.cli import main
from outcomes.comparison import compare
from outcomes.errors import OutcomesError

METHODS = ["unadjusted", "ancova", "ipw", "aipw", "matching", "did"]


def _table(n: int = 80, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    joined = rng.random(n) < 0.5
    return pd.DataFrame({"mentor": np.where(joined, "yes", "no"), "x": x,
                         "pre": x + rng.normal(size=n),
                         "y": x + 0.3 * joined + rng.normal(size=n)})  # fmt: skip


def _compare(frame, **kw):
    args = {"group": "mentor", "treated": "yes", "outcome": "y", "covariates": ["x"],
            "baseline": "pre", "method": METHODS} | kw  # fmt: skip
    return compare(frame, **args)


def _refused(frame, column, problem, **kw):
    with pytest.raises(OutcomesError) as info:
        _compare(frame, **kw)
    assert info.value.column == column and problem in info.value.problem
    return info.value


def test_one_group_only_is_refused():
    frame = _table().assign(mentor="yes")
    error = _refused(frame, "mentor", "no row is in the comparison group")
    assert "'yes' (80 rows)" in error.found


def test_text_outcome_is_refused_without_echoing_it():
    frame = _table().astype({"y": object})
    frame.loc[3, "y"] = "jane.doe@example.org"
    error = _refused(frame, "y", "the outcome is not numeric")
    assert "jane" not in str(error) and "an email address" in error.found


@pytest.mark.parametrize(("column", "value"), [("y", np.inf), ("pre", -np.inf), ("x", np.inf)])
def test_infinite_values_are_refused(column, value):
    frame = _table()
    frame.loc[5, column] = value
    _refused(frame, column, "infinite value")


def test_values_too_large_for_double_precision_are_refused():
    frame = _table().assign(y=lambda f: f["y"] * 1e300)
    _refused(frame, "y", "too large")


def test_text_among_the_numbers_of_a_covariate_is_refused():
    frame = _table().astype({"x": object})
    frame.loc[7, "x"] = "n/a (moved)"
    error = _refused(frame, "x", "text among the numbers")
    assert "moved" not in str(error)


def test_all_missing_and_constant_outcomes_give_noted_empty_rows():
    missing = _compare(_table().assign(y=np.nan))
    assert missing["estimate"].isna().all() and missing["note"].notna().all()
    assert (missing["note"] == "no student has a value of the outcome").all()
    constant = _compare(_table().assign(y=3.0))
    assert constant["estimate"].isna().all()
    assert constant["note"].str.contains("same value for every student").all()


def test_all_covariates_missing_gives_noted_rows_for_the_methods_that_need_them():
    out = _compare(_table().assign(x=np.nan), method=["unadjusted", "ancova", "ipw"])
    by = out.set_index("method")
    assert np.isfinite(by.loc["unadjusted", "estimate"]) and pd.isna(by.loc["unadjusted", "note"])
    for method in ("ancova", "ipw"):
        assert pd.isna(by.loc[method, "estimate"]) and "no student" in by.loc[method, "note"]


def test_three_students_give_noted_rows_not_silent_nans():
    out = _compare(_table().head(3), method=["unadjusted", "ancova"])
    assert out["estimate"].isna().all() and out["note"].notna().all()


def test_every_row_has_an_estimate_or_a_note_and_the_cli_never_tracebacks(tmp_path, capsys):
    path = tmp_path / "t.csv"
    _table().assign(y=3.0).to_csv(path, index=False)
    code = main(["compare", str(path), "--group", "mentor", "--treated", "yes", "--outcome",
                 "y", "--format", "csv"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0 and "Traceback" not in out.out + out.err and "same value" in out.out
    text = _table().astype({"y": object})
    text.loc[0, "y"] = "abc"
    text.to_csv(path, index=False)
    assert main(["compare", str(path), "--group", "mentor", "--treated", "yes",
                 "--outcome", "y"]) == 2  # fmt: skip
    assert "the outcome is not numeric" in capsys.readouterr().err
