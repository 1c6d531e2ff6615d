"""Codebook mapping: column selectors, renames, code labels, quarantine, waves in a column."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from outcomes.config import cohort_from_dict
from outcomes.errors import ExportError
from outcomes.ingest import ingest_wave
from outcomes.ingest.detect import sniff_format
from outcomes.simulate import qualtrics_csv_text, simulate_cohort

from .conftest import SAMPLES, demo_cohort_dict


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A 120-student baseline export (seed 21) written as a current Qualtrics CSV."""
    folder = tmp_path_factory.mktemp("codebook")
    frame = simulate_cohort(120, seed=21).exports["baseline"]
    (folder / "baseline.csv").write_text(qualtrics_csv_text(frame), newline="")
    return folder, frame


def _cohort(folder, edit=None, name="baseline.csv"):
    raw = demo_cohort_dict(folder)
    raw["sources"] = [{"path": str(folder / name), "wave": "baseline"}]
    if edit:
        edit(raw)
    return cohort_from_dict(raw)


def _write(folder, frame, name):
    path = folder / name
    path.write_text(qualtrics_csv_text(frame), newline="")
    return path


def test_selectors_find_the_same_columns(export):
    folder, _ = export
    reference = ingest_wave(_cohort(folder), "baseline").responses

    def by_selectors(raw):
        raw["outcomes"]["depression"]["columns"] = {"text": "bothered by any of the following"}
        raw["outcomes"]["stress"]["columns"] = {"import_id": "QID1_{1..10}"}
        raw["outcomes"]["loneliness"]["columns"] = {"regex": r"^Q5_\d$"}

    # PHQ-9 and GAD-7 share a stem in the demo survey ("...bothered by any of the following
    # problems?" vs "...the following problems?"), so the text selector must be specific.
    selected = ingest_wave(_cohort(folder, by_selectors), "baseline").responses
    pd.testing.assert_frame_equal(selected, reference)


def test_selector_matching_the_wrong_count_is_an_error(export):
    folder, _ = export

    def too_broad(raw):
        raw["outcomes"]["depression"]["columns"] = {"regex": r"^Q[34]_"}  # PHQ-9 + GAD-7 items

    with pytest.raises(ExportError) as info:
        ingest_wave(_cohort(folder, too_broad), "baseline")
    assert info.value.column == "outcomes.depression.columns"
    assert "9 columns" in info.value.expected and "16" in info.value.found


def test_rename_and_numeric_codes_with_declared_labels(export):
    """A "numeric values" export: codes instead of labels, other column names. With rename and
    value_labels in the source config it ingests to the same table as the label export."""
    folder, frame = export
    reference = ingest_wave(_cohort(folder), "baseline").responses
    numeric = frame.rename(columns={"ExternalReference": "student_id"}).copy()
    numeric.attrs = frame.attrs
    # Qualtrics recodes need not start at 0: PHQ-9 recoded 1..4 here (domain ref 1.1.4).
    recode = {"Not at all": "1", "Several days": "2", "More than half the days": "3",
              "Nearly every day": "4"}  # fmt: skip
    for i in range(1, 10):
        numeric[f"Q3_{i}"] = numeric[f"Q3_{i}"].map(lambda v: recode.get(v, v))
    _write(folder, numeric, "numeric.csv")

    def settings(raw):
        raw["sources"][0]["rename"] = {"student_id": "ExternalReference"}
        raw["sources"][0]["value_labels"] = {"Q3_*": {v: k for k, v in recode.items()}}

    coded = ingest_wave(_cohort(folder, settings, "numeric.csv"), "baseline").responses
    pd.testing.assert_frame_equal(coded, reference)
    # Without labels the codes are refused, never taken as item values.
    with pytest.raises(ExportError, match="numeric codes need labels"):
        ingest_wave(_cohort(folder, lambda r: settings(r) or r["sources"][0].pop(
            "value_labels"), "numeric.csv"), "baseline")  # fmt: skip


def test_out_of_range_gpa_is_quarantined_not_clipped(export):
    folder, frame = export
    bad = frame.copy()
    bad.attrs = frame.attrs
    target = bad.index[(bad["Status"] == "IP Address") & (bad["Progress"] == "100")][3]
    bad.loc[target, "gpa"] = "4.70"
    _write(folder, bad, "gpa.csv")
    result = ingest_wave(_cohort(folder, name="gpa.csv"), "baseline")
    row = result.ledger.set_index("row_number").loc[target + 1]
    assert row["disposition"] == "out_of_range"
    assert row["detail"] == "gpa: a number outside 0-4 (a decimal number, above the range)"
    assert len(result.responses) == (result.ledger["disposition"] == "analysed").sum()
    assert result.responses["gpa"].max() <= 4.0


def test_ineligible_rule_and_missing_values(export):
    folder, frame = export

    def rules(raw):
        raw["exclude"]["ineligible"] = [{"column": "grade_level", "values": [12]}]
        raw["missing_values"] = ["Several days"]  # as if it were "Prefer not to say"

    result = ingest_wave(_cohort(folder, rules), "baseline")
    ledger = result.ledger.set_index("row_number")
    grade12 = pd.Index(frame.index[frame["grade_level"] == "12"] + 1)
    eligible_before = ledger.loc[grade12, "disposition"]
    assert (eligible_before.isin(["ineligible", "preview", "test", "spam"])).all()
    assert (result.responses["depression_1"] != 1).all()  # "Several days" (1) became missing


def test_dates_are_coarsened(export):
    folder, _ = export

    def with_date(raw):
        raw["covariates"]["started"] = {"column": "StartDate", "type": "date", "coarsen": "month"}

    responses = ingest_wave(_cohort(folder, with_date), "baseline").responses
    assert set(responses["started"]) <= {"2026-09", "2026-08"}


def test_waves_from_a_column(export, tmp_path):
    """One file holding two waves (as a REDCap longitudinal export): rows are split by the
    wave column; rows of an unmapped event are excluded once, in the first wave's ledger."""
    folder, frame = export
    both = frame.copy()
    both.attrs = frame.attrs
    events = np.resize(["baseline_arm_1", "followup_arm_1", "screening_arm_1"], len(both))
    both["mentoring"] = both["mentoring"]
    both.insert(0, "event", events)
    both.attrs = {"question_text": ["event", *frame.attrs["question_text"]],
                  "import_ids": ["event", *frame.attrs["import_ids"]]}  # fmt: skip
    _write(folder, both, "both.csv")

    def split(raw):
        raw["sources"] = [{"path": str(folder / "both.csv"), "wave_from": {
            "column": "event", "values": {"baseline_arm_1": "baseline",
                                          "followup_arm_1": "followup"}}}]  # fmt: skip

    cohort = _cohort(folder, split)
    first, second = (ingest_wave(cohort, w).ledger for w in ("baseline", "followup"))
    assert len(first) + len(second) == len(both)
    assert (first["disposition"] == "unmapped_wave").sum() == (events == "screening_arm_1").sum()
    assert "unmapped_wave" not in set(second["disposition"])
    assert set(first["row_number"]).isdisjoint(second["row_number"])


def test_source_needs_one_wave_rule(export):
    folder, _ = export
    raw = demo_cohort_dict(folder)
    raw["sources"] = [{"path": "x.csv"}]
    with pytest.raises(Exception, match="exactly one of wave and wave_from"):
        cohort_from_dict(copy.deepcopy(raw))


def test_sniffing_formats(export, tmp_path):
    folder, _ = export
    assert sniff_format(folder / "baseline.csv") == "qualtrics"
    assert sniff_format(SAMPLES / "qualtrics/sample_legacy.csv") == "qualtrics"
    assert sniff_format(SAMPLES / "redcap/longitudinal/data.csv") == "redcap"
    assert sniff_format(SAMPLES / "spss/sample.sav") == "spss"
    (tmp_path / "sm.csv").write_text("Respondent ID,Collector ID,Start Date\n,,Response\n")
    assert sniff_format(tmp_path / "sm.csv") == "surveymonkey"
    (tmp_path / "plain.tsv").write_text("id\tgroup\n1\tYes\n")
    assert sniff_format(tmp_path / "plain.tsv") == "tsv"


def test_an_excluded_rows_odd_value_does_not_stop_the_run(export):
    """A preview response with text in a numeric column is excluded as a preview; its value
    must not be checked (regression: values were checked over the whole column)."""
    folder, frame = export
    odd = frame.copy()
    odd.attrs = frame.attrs
    preview = odd.index[odd["Status"] == "Survey Preview"][0]
    odd.loc[preview, ["grade_level", "gpa"]] = ["not sure", "n/a"]
    _write(folder, odd, "odd.csv")
    result = ingest_wave(_cohort(folder, name="odd.csv"), "baseline")
    assert result.ledger.set_index("row_number").loc[preview + 1, "disposition"] == "preview"
    reference = ingest_wave(_cohort(folder), "baseline").responses
    pd.testing.assert_frame_equal(result.responses, reference)
