"""The funder report: suppression, generated sentences, figure data, rendering."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from outcomes.report.figures import benefit_oriented, forest_plot
from outcomes.report.narrative import effect_sentence, selection_sentence
from outcomes.report.render import render_report
from outcomes.report.suppression import suppress_breakdown, suppress_count, too_small


@pytest.mark.parametrize(
    ("n", "shown"), [(0, "0"), (1, "<10"), (9, "<10"), (10, "10"), (12345, "12,345")]
)
def test_counts_below_the_minimum_are_suppressed(n, shown):
    # Rule (domain reference 4.2): suppress counts 1..9 with n < 10; zero discloses nobody.
    assert suppress_count(n, 10) == shown


def test_complementary_suppression_protects_a_lone_small_cell():
    # Total 60 = 40 + 5 + 15: showing 40 and 15 would reveal the 5, so 15 is hidden too.
    assert suppress_breakdown([40, 5, 15], 10) == ["40", "<10", "*"]
    assert suppress_breakdown([40, 5, 3], 10) == ["40", "<10", "<10"]
    assert suppress_breakdown([40, 12], 10) == ["40", "12"]
    assert too_small(9, 400, 10) and not too_small(10, 10, 10)


def _row(**kw):
    base = {"label": "Stress (PSS-10)", "estimate": -1.7, "ci_low": -2.75, "ci_high": -0.65,
            "direction": "lower_is_better", "p_adjusted": 0.004, "hedges_g": -0.21}  # fmt: skip
    return pd.Series(base | kw)


def test_sentence_follows_direction_of_benefit():
    text = effect_sentence(_row())
    assert "1.70 points lower (better)" in text
    assert "95% CI: 0.65 to 2.75 lower" in text and "0.21 SD" in text
    assert "unlikely to be chance alone (adjusted p = 0.004)" in text
    worse = effect_sentence(_row(direction="higher_is_better", label="Self-esteem"))
    assert "lower (worse)" in worse
    unclear = effect_sentence(_row(estimate=0.36, ci_low=-0.33, ci_high=1.05, p_adjusted=0.31))
    assert "from 0.33 lower to 1.05 higher" in unclear and "could well be chance" in unclear


def test_selection_sentence_names_large_baseline_gaps():
    rows = pd.DataFrame({"label": ["Loneliness (UCLA-3)", "Grades (GPA)"], "hedges_g": [0.6, 0.1]})
    text = selection_sentence(rows)
    assert "loneliness (higher, 0.60 SD)" in text and "grades" not in text
    similar = selection_sentence(rows.assign(hedges_g=[0.1, -0.2]))
    assert "similar" in similar


def test_forest_plot_orients_benefit_to_the_right():
    estimates = pd.DataFrame({
        "label": ["Stress", "Self-esteem"], "hedges_g": [-0.3, 0.2],
        "g_ci_low": [-0.5, 0.05], "g_ci_high": [-0.1, 0.35],
        "direction": ["lower_is_better", "higher_is_better"],
    })  # fmt: skip
    data = benefit_oriented(estimates)
    np.testing.assert_allclose(data["g"], [0.3, 0.2])
    np.testing.assert_allclose(data["g_low"], [0.1, 0.05])
    np.testing.assert_allclose(data["g_high"], [0.5, 0.35])
    figure = forest_plot(estimates)
    points = figure.axes[0].lines[1].get_xdata()  # lines[0] is the zero line
    np.testing.assert_allclose(points, [0.3, 0.2])


def test_small_groups_get_no_result(small_simulation, settings):
    from outcomes.analysis import analyze
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import reliability_table, safety_table, score_responses

    _, cohort, _ = small_simulation
    results = [ingest_wave(cohort, w) for w in cohort.waves]
    responses = pd.concat([r.responses for r in results])
    ledger = pd.concat([r.ledger for r in results])
    scored = {
        "reliability": reliability_table(responses, cohort),
        "safety": safety_table(responses, cohort),
    }
    tables = analyze(score_responses(responses, cohort), ledger, cohort, settings, scored)
    html = render_report(tables, cohort, settings)
    assert "Loneliness (UCLA-3): participants scored" in html
    estimates = tables["estimates"].copy()
    estimates.loc[estimates["outcome"] == "gpa", "n_participants"] = 7
    html = render_report(tables | {"estimates": estimates}, cohort, settings)
    assert "Grades (GPA): fewer than 10 students in a group" in html
    assert "Grades (GPA): participants scored" not in html


def test_adjustment_terms_in_plain_words(small_simulation):
    from outcomes.report.render import plain_terms

    _, cohort, _ = small_simulation
    assert plain_terms(["C(gender)", "grade_level", "stress_baseline"], cohort) == [
        "gender", "grade level", "stress (pss-10) at baseline"
    ]  # fmt: skip


def test_no_nan_text_in_the_demo_report(small_simulation, settings, tmp_path):
    # Text cells read back from Parquet are NaN when empty; none may print as "nan".
    from outcomes.analysis import analyze_cohort
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import score_cohort
    from outcomes.report import report_cohort

    _, cohort, _ = small_simulation
    paths = []
    for wave in cohort.waves:
        pair = (tmp_path / f"{wave}_r.parquet", tmp_path / f"{wave}_l.parquet")
        ingest_wave(cohort, wave, *pair)
        paths.append(pair)
    score_cohort(cohort, [p[0] for p in paths], tmp_path / "s.parquet", tmp_path / "rel.parquet",
                 tmp_path / "items.parquet", tmp_path / "safety.parquet")  # fmt: skip
    analyze_cohort(cohort, settings, tmp_path / "s.parquet", [p[1] for p in paths],
                   tmp_path / "tables", {"reliability": tmp_path / "rel.parquet",
                                         "safety": tmp_path / "safety.parquet"})  # fmt: skip
    html = report_cohort(tmp_path / "tables", cohort, settings, tmp_path / "r.html").read_text()
    assert not re.search(r"\bnan\b", html, flags=re.IGNORECASE)
    assert "C(gender)" not in html.split("<svg")[0]


def test_attrition_rows_hide_a_small_number_lost_by_subtraction():
    # 118 of 124 answered would reveal that 6 did not: the answered count is hidden ("*"),
    # the assigned total is shown; 105 of 124 (19 lost) is shown as is.
    from outcomes.report.render import _attrition_rows

    rows = []
    for wave, present in (("w2", 118), ("w3", 105)):
        for group in ("participant", "comparison", "overall"):
            rows.append({"wave": wave, "outcome": "(responded)", "group": group,
                         "n_present": present, "n_assigned": 124,
                         "overall_attrition_pct": 5.0, "differential_attrition_pct": 0.0,
                         "verdict_cautious": "low", "verdict_optimistic": "low"})  # fmt: skip
    shown = _attrition_rows(pd.DataFrame(rows), 10)
    assert shown[0]["participant"] == "* of 124"
    assert shown[1]["participant"] == "105 of 124"


def test_a_failed_report_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    # A full disk while writing report.html: the error surfaces, and neither the report nor
    # its temporary file is left behind.
    from pathlib import Path

    import outcomes.report.render as render

    monkeypatch.setattr(render, "render_report", lambda *a, **k: "<html></html>")
    monkeypatch.setattr(render.pd, "read_parquet", lambda *a, **k: pd.DataFrame())

    def full_disk(self, *args, **kwargs):
        Path.write_bytes(self, b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space"):
        render.report_cohort(tmp_path, None, None, tmp_path / "out" / "report.html")
    assert not list((tmp_path / "out").iterdir())
