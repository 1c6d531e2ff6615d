"""The demo generator: determinism, the committed demo, planted structure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from outcomes.simulate import qualtrics_csv_text, simulate_cohort, write_cohort

from .conftest import ROOT


def test_same_seed_gives_identical_exports():
    first = simulate_cohort(150, seed=11)
    second = simulate_cohort(150, seed=11)
    for wave in ("baseline", "followup"):
        assert qualtrics_csv_text(first.exports[wave]) == qualtrics_csv_text(second.exports[wave])
    assert first.truth == second.truth
    other = simulate_cohort(150, seed=12)
    assert qualtrics_csv_text(other.exports["baseline"]) != qualtrics_csv_text(
        first.exports["baseline"]
    )


def test_committed_demo_is_the_generators_output(tmp_path):
    # data/demo/ must be exactly what `outcomes simulate` (defaults: n=1000, seed=2027) writes.
    write_cohort(simulate_cohort(1000, seed=2027), tmp_path)
    for name in ("baseline.csv", "followup.csv", "truth.json"):
        assert (tmp_path / name).read_bytes() == (ROOT / "data/demo" / name).read_bytes(), name


def test_export_layout_is_qualtrics_current_format():
    frame = simulate_cohort(100, seed=3).exports["baseline"]
    text = qualtrics_csv_text(frame)
    lines = text.split("\r\n")
    assert lines[0].startswith("StartDate,EndDate,Status,IPAddress,Progress")
    assert lines[1].startswith("Start Date,End Date,Response Type,IP Address")
    assert lines[2].startswith('"{""ImportId"":""startDate""}"')
    for column in ("RecipientEmail", "IPAddress", "LocationLatitude", "ExternalReference"):
        assert column in frame.columns
    # The mess: previews, tests, unfinished and duplicate responses are present.
    assert (frame["Status"] == "Survey Preview").sum() == 3
    assert (frame["Status"] == "Survey Test").sum() == 2
    assert (frame["Finished"] == "False").any()
    ids = frame.loc[frame["ExternalReference"].str.startswith("S"), "ExternalReference"]
    assert ids.duplicated().any()


def test_selection_makes_joiners_lonelier_and_about_a_third_join():
    simulated = simulate_cohort(4000, seed=5, mess=False)
    students = simulated.students
    share = students["participant"].mean()
    assert 0.28 < share < 0.39  # target 1/3
    gap = students.groupby("participant")["loneliness_baseline"].mean()
    pooled = students["loneliness_baseline"].std()
    assert (gap[True] - gap[False]) / pooled > 0.4  # joiners start lonelier: naive bias
    # Differential attrition: participants answer the follow-up more often.
    response = students.groupby("participant")["responds_followup"].mean()
    assert response[True] > response[False] + 0.05


def test_truth_file_matches_planted_latent_effects(tmp_path):
    simulated = simulate_cohort(3000, seed=9, mess=False)
    truth = {row["outcome"]: row for row in simulated.truth["effects"]}
    assert truth["anxiety"]["truth_raw"] == 0.0  # no planted effect -> exactly zero
    # Signs follow the planted latent effects; GPA is planted in grade points (0.12),
    # so its sample ATT differs only through clipping at 0 and 4.
    assert truth["loneliness"]["truth_raw"] < 0 < truth["self_esteem"]["truth_raw"]
    assert abs(truth["gpa"]["truth_raw"] - 0.12) < 0.01
    # Standardized truth is raw / SD of the untreated follow-up score.
    for row in truth.values():
        if row["sd_untreated_followup"]:
            assert np.isclose(
                row["truth_std"], row["truth_raw"] / row["sd_untreated_followup"], atol=1e-5
            )
    write_cohort(simulated, tmp_path)
    assert json.loads((tmp_path / "truth.json").read_text()) == simulated.truth


def test_scales_to_many_rows_quickly():
    # Vectorized generation: 20,000 students is a fraction of the benchmark scale.
    simulated = simulate_cohort(20000, seed=1)
    assert len(simulated.exports["baseline"]) > 20000
    assert isinstance(simulated.exports["followup"], pd.DataFrame)
