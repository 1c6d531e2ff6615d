"""The study-shape simulator: layouts, determinism, the planted structure, and ingest."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from outcomes.config import cohort_from_dict
from outcomes.ingest import ingest_wave
from outcomes.ingest.exclusions import REASONS
from outcomes.ingest.ledger import KEPT
from outcomes.instruments import get_instrument
from outcomes.simulate_study import (
    StudyShape,
    simulate_study,
    study_cohort_config,
    write_study,
)

from .conftest import assert_no_identifiers

LEGACY_PLAN = {"baseline_wave": "wave1", "primary_wave": "wave2", "methods": ["unadjusted"]}
PHQ = [f"phq_{i}" for i in range(1, 10)]
PSS = [f"pss_{i}" for i in range(1, 11)]


def _ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["student_id"]) - {""}


def _phq_score(frame: pd.DataFrame) -> pd.Series:
    key = get_instrument("phq9").responses
    return frame[PHQ].apply(lambda column: column.map(key)).sum(axis=1)


@pytest.mark.parametrize(
    ("shape", "columns"),
    [
        (
            StudyShape(n_students=60, n_clusters=5),
            ["student_id", "email", "school", "mentoring", "gender", "grade_level", *PHQ, *PSS,
             "test_score"],
        ),
        (
            StudyShape(n_students=60, n_waves=4, outcomes="numeric", design="randomized"),
            ["student_id", "email", "mentoring", "gender", "grade_level", "math_score",
             "reading_score"],
        ),
        (
            StudyShape(n_students=60, n_waves=1, baseline=False, attrition=0.0),
            ["student_id", "email", "mentoring", "gender", "grade_level", *PHQ, *PSS,
             "test_score"],
        ),
    ],
)  # fmt: skip
def test_shapes_give_their_waves_columns_and_rows(shape, columns):
    study = simulate_study(shape, seed=1)
    assert list(study.exports) == [f"wave{t}" for t in range(1, shape.n_waves + 1)]
    assert list(shape.export_columns) == columns
    for wave, frame in study.exports.items():
        assert list(frame.columns) == columns
        assert frame["student_id"].is_unique  # no mess by default
        assert len(frame) == study.truth["n_responding"][wave] == study.truth["n_rows"][wave]
        assert set(frame["mentoring"]) <= {"Yes", "No"}
        assert set(frame["gender"]) <= {"Female", "Male", "Non-binary"}
        assert set(frame["grade_level"]) <= {"9", "10", "11", "12"}
        for column in columns[columns.index("grade_level") + 1 :]:
            if column.endswith("_score"):
                values = frame[column].astype(float)
                assert values.between(0, 100).all()
                assert frame[column].str.fullmatch(r"\d+\.\d\d").all()  # 2 decimals
            else:  # items are written as the instrument's response labels
                instrument = get_instrument("phq9" if column in PHQ else "pss10")
                assert set(frame[column]) <= set(instrument.responses)
    assert len(study.exports["wave1"]) == shape.n_students  # everyone answers the first wave
    if shape.n_clusters:
        schools = set(study.exports["wave1"]["school"])
        assert schools == {f"school_{k:02d}" for k in range(1, shape.n_clusters + 1)}
        assert study.truth["clusters"] == sorted(schools)


def test_same_seed_gives_identical_files(tmp_path):
    shape = StudyShape(n_students=80, n_waves=3, n_clusters=4, item_missing=0.05, mess=True,
                       switch_rate=0.1, late_entrants=5, caseness=True)  # fmt: skip
    first = write_study(simulate_study(shape, seed=5), tmp_path / "a")
    second = write_study(simulate_study(shape, seed=5), tmp_path / "b")
    assert sorted(p.name for p in first.values()) == [
        "truth.json", "wave1.csv", "wave2.csv", "wave3.csv",
    ]  # fmt: skip
    for role, path in first.items():
        assert path.read_bytes() == second[role].read_bytes(), role
    text = first["wave1"].read_bytes()
    assert text.decode("utf-8").splitlines()[0] == ",".join(shape.export_columns)
    other = write_study(simulate_study(shape, seed=6), tmp_path / "c")
    assert other["wave1"].read_bytes() != text
    truth = json.loads(first["truth"].read_text())
    assert truth["seed"] == 5 and truth["shape"] == dataclasses.asdict(shape)


def test_students_come_back_after_a_missed_wave():
    study = simulate_study(StudyShape(n_students=200, n_waves=3, attrition=0.3), seed=2)
    w1, w2, w3 = (_ids(study.exports[w]) for w in ("wave1", "wave2", "wave3"))
    returners = (w1 - w2) & w3
    assert returners
    assert study.truth["n_returners"] == len(returners)
    # Even where independent misses would rarely produce one, a return is guaranteed.
    tiny = simulate_study(StudyShape(n_students=20, n_waves=3, attrition=0.01), seed=3)
    ids = [_ids(tiny.exports[w]) for w in ("wave1", "wave2", "wave3")]
    assert (ids[0] - ids[1]) & ids[2]
    none = simulate_study(StudyShape(n_students=50, n_waves=3, attrition=0.0), seed=3)
    assert all(len(frame) == 50 for frame in none.exports.values())


def test_late_entrants_first_answer_at_wave2():
    shape = StudyShape(n_students=100, n_waves=3, late_entrants=12)
    study = simulate_study(shape, seed=4)
    late = set(study.students.loc[study.students["late_entrant"], "student_id"])
    assert len(late) == 12
    w1, w2 = _ids(study.exports["wave1"]), _ids(study.exports["wave2"])
    assert not late & w1
    assert late <= w2
    assert w2 - w1 == late
    assert len(w1) == 100 - 12


def test_switchers_recorded_group_differs_from_the_assigned_one():
    study = simulate_study(StudyShape(n_students=200, n_waves=3, switch_rate=0.1), seed=8)
    students = study.students.set_index("student_id")
    assigned = np.where(students["participant"], "Yes", "No")
    assigned = pd.Series(assigned, index=students.index)
    switchers = students.index[students["switch_wave"].notna()]
    assert len(switchers) == 20 == study.truth["n_switchers"]
    assert (students.loc[switchers, "switch_wave"] != "wave1").all()
    for t, wave in enumerate(study.shape.waves):
        frame = study.exports[wave].set_index("student_id")
        recorded = frame["mentoring"]
        start = students["switch_wave"].map({w: i for i, w in enumerate(study.shape.waves)})
        flipped = start.le(t).reindex(recorded.index)
        assert (recorded[flipped] != assigned[recorded.index][flipped]).all()
        assert (recorded[~flipped] == assigned[recorded.index][~flipped]).all()
    # The planted effect follows the assignment: the truth does not depend on switching.
    same = simulate_study(dataclasses.replace(study.shape, switch_rate=0.0), seed=8)
    assert same.truth["effects"] == study.truth["effects"]


def test_cluster_randomized_groups_are_constant_within_schools():
    shape = StudyShape(n_students=160, n_clusters=6, design="cluster_randomized", n_waves=3)
    study = simulate_study(shape, seed=9)
    for frame in study.exports.values():
        per_school = frame.groupby("school")["mentoring"].nunique()
        assert (per_school == 1).all()
        assert set(frame["mentoring"]) == {"Yes", "No"}
    treated = study.exports["wave1"].groupby("school")["mentoring"].first()
    assert (treated == "Yes").sum() == 3
    with pytest.raises(ValueError, match="n_clusters >= 4"):
        StudyShape(n_clusters=3, design="cluster_randomized")
    with pytest.raises(ValueError, match="n_waves"):
        StudyShape(n_waves=7)
    with pytest.raises(ValueError, match="baseline=False"):
        StudyShape(n_waves=1)


def test_randomized_study_is_stratified_by_school():
    study = simulate_study(StudyShape(n_students=120, n_clusters=4, design="randomized"), seed=1)
    frame = study.exports["wave1"]
    shares = frame["mentoring"].eq("Yes").groupby(frame["school"]).mean()
    assert np.allclose(shares, 0.5, atol=0.04)


def test_truth_is_zero_before_the_program_and_near_the_planted_effect_after():
    study = simulate_study(StudyShape(n_students=2000, n_waves=3, caseness=True), seed=10)
    rows = {(r["outcome"], r["wave"]): r for r in study.truth["effects"]}
    assert {o for o, _ in rows} == {"depression", "stress", "test_score", "depression_case"}
    for (_, wave), row in rows.items():
        if wave == "wave1":
            assert row["truth_raw"] == row["truth_raw_responders"] == 0.0
            assert not row["post_program"]
        else:
            assert row["post_program"] and row["truth_raw"] != 0
            assert np.isclose(row["truth_std"], row["truth_raw"] / row["sd_untreated"], atol=1e-5)
            assert abs(row["truth_raw_responders"] - row["truth_raw"]) < 0.2 * abs(row["truth_raw"])
    for wave in ("wave2", "wave3"):
        # A numeric score moves by effect x its SD (12 points), up to clipping at 0 and 100.
        assert rows["test_score", wave]["truth_raw"] == pytest.approx(0.3 * 12, rel=0.05)
        assert rows["test_score", wave]["truth_std"] == pytest.approx(0.3, abs=0.05)
        for outcome in ("depression", "stress"):  # lower is better; items blur the latent
            assert -0.4 < rows[outcome, wave]["truth_std"] < -0.15
        assert rows["depression_case", wave]["truth_raw"] < 0
    # The truth matches the potential outcomes kept for checking.
    potential = study.potential.merge(study.students[["student_id", "participant"]])
    wave2 = potential[(potential["wave"] == "wave2") & potential["participant"]]
    att = (wave2["y1"] - wave2["y0"]).groupby(wave2["outcome"]).mean()
    assert att["stress"] == pytest.approx(rows["stress", "wave2"]["truth_raw"], abs=1e-6)

    without = simulate_study(StudyShape(n_students=400, baseline=False), seed=10)
    wave1 = [r for r in without.truth["effects"] if r["wave"] == "wave1"]
    assert all(r["post_program"] and r["truth_raw"] != 0 for r in wave1)
    assert without.truth["selection_baselines"] == []


def _naive_wave1_gap(study) -> float:
    frame = study.exports["wave1"]
    score = _phq_score(frame)
    joined = frame["mentoring"].eq("Yes")
    return float((score[joined].mean() - score[~joined].mean()) / score.std())


def test_self_selection_biases_the_naive_baseline_comparison_randomization_does_not():
    selected = simulate_study(StudyShape(n_students=3000), seed=11)
    randomized = simulate_study(StudyShape(n_students=3000, design="randomized"), seed=11)
    assert _naive_wave1_gap(selected) > 0.3  # joiners start more depressed
    assert abs(_naive_wave1_gap(randomized)) < 0.1
    assert 0.28 < selected.students["participant"].mean() < 0.39
    assert "depression" in selected.truth["selection"]


def test_cohort_config_follows_the_shape(tmp_path):
    selected = simulate_study(StudyShape(n_students=40, n_clusters=4, caseness=True), seed=1)
    config = study_cohort_config(selected, "data/sim", "sim_a")
    assert config["sources"] == [
        {"path": f"data/sim/wave{t}.csv", "wave": f"wave{t}", "format": "csv"} for t in (1, 2)
    ]
    assert config["cluster"] == "school" and config["respondent_id"] == "student_id"
    assert config["outcomes"]["depression"]["case_at_least"] == 10
    assert config["outcomes"]["depression"]["columns"] == PHQ
    assert set(config["instruments"]) == {"achievement_test"}
    assert config["plan"] == {
        "design": "self_selected", "assignment_wave": "wave1", "baseline_wave": "wave1",
        "primary_wave": "wave2", "group_from": "assignment", "se": "auto", "estimand": "ATT",
        "methods": ["unadjusted", "ancova", "ipw", "aipw", "matching", "did"],
        "covariates": ["C(gender)", "grade_level", "depression_baseline", "stress_baseline"],
        "propensity": {"caliper": 0.2},
    }  # fmt: skip
    mapped = json.dumps({k: v for k, v in config.items() if k != "sources"})
    assert "email" not in mapped

    numeric = simulate_study(
        StudyShape(n_students=40, n_waves=3, outcomes="numeric", n_clusters=4,
                   design="cluster_randomized"),
        seed=1,
    )  # fmt: skip
    config = study_cohort_config(numeric, tmp_path, "sim_b")
    assert set(config["outcomes"]) == {"math_score", "reading_score"}
    assert {o["domain"] for o in config["outcomes"].values()} == {"academic"}
    assert config["instruments"]["math_test"]["kind"] == "numeric"
    assert config["instruments"]["math_test"]["range"] == [0.0, 100.0]
    assert config["plan"]["design"] == "randomized"
    assert config["plan"]["methods"] == ["unadjusted", "ancova"]
    assert config["plan"]["covariates"] == ["C(gender)", "grade_level"]
    assert config["plan"]["primary_wave"] == "wave3"

    one_wave = simulate_study(StudyShape(n_students=40, n_waves=1, baseline=False), seed=1)
    plan = study_cohort_config(one_wave, tmp_path, "sim_c")["plan"]
    assert plan["baseline_wave"] is None and "did" not in plan["methods"]
    assert plan["covariates"] == ["C(gender)", "grade_level"]
    no_baseline = simulate_study(StudyShape(n_students=40, baseline=False), seed=1)
    plan = study_cohort_config(no_baseline, tmp_path, "sim_d")["plan"]
    assert plan["baseline_wave"] is None and plan["primary_wave"] == "wave2"


@pytest.mark.parametrize(
    "shape",
    [
        StudyShape(n_students=120, n_clusters=4, item_missing=0.03, caseness=True, mess=True),
        StudyShape(n_students=120, n_waves=3, outcomes="numeric", late_entrants=10,
                   switch_rate=0.1, item_missing=0.05, design="randomized", mess=True),
    ],
)  # fmt: skip
def test_written_study_ingests_with_every_row_accounted_for(tmp_path, shape):
    study = simulate_study(shape, seed=12)
    written = write_study(study, tmp_path / "data")
    config = study_cohort_config(study, tmp_path / "data", "sim")
    cohort = cohort_from_dict({**config, "plan": LEGACY_PLAN})
    identifiers = set(study.students["student_id"]) | set(study.students["email"])
    for wave in shape.waves:
        responses_path = tmp_path / f"{wave}_responses.parquet"
        result = ingest_wave(cohort, wave, responses_path, tmp_path / f"{wave}_ledger.parquet")
        ledger = result.ledger
        n_rows = len(pd.read_csv(written[wave], dtype=str, keep_default_na=False))
        assert len(ledger) == n_rows == study.truth["n_rows"][wave]
        assert set(ledger["disposition"]) <= {KEPT, *REASONS}
        kept = ledger["disposition"].eq(KEPT)
        assert kept.sum() == len(result.responses) == study.truth["n_responding"][wave]
        excluded = ledger.loc[~kept, "disposition"].value_counts().to_dict()
        mess = study.truth["mess"][wave]
        assert excluded == {"missing_id": mess["without_id"],
                            "duplicate": mess["repeated_submissions"]}  # fmt: skip
        assert set(result.responses["group"]) == {"participant", "comparison"}
        if shape.n_clusters:
            assert set(result.responses["cluster"]) == set(study.truth["clusters"])
        assert_no_identifiers([responses_path], identifiers)
        assert "email" in result.sources[0]["dropped_columns"]["direct_identifier"]


def test_uptake_varies_by_school_with_uptake_sd():
    base = StudyShape(n_students=3000, n_clusters=30, icc=0.15)
    varied = dataclasses.replace(base, uptake_sd=1.0)
    flat, spread = simulate_study(base, seed=13), simulate_study(varied, seed=13)

    def school_shares(study):
        students = study.students
        return students["participant"].groupby(students["school"]).mean()

    # 100 students a school: binomial noise alone gives an SD of the shares of about 0.05.
    assert school_shares(flat).std() < 0.08
    assert school_shares(spread).std() > 0.12
    assert 0.28 < spread.students["participant"].mean() < 0.39  # still about a third join
    assert "u_school (SD 1" in spread.truth["selection"]
    assert "u_school" not in flat.truth["selection"]
    # The school effect is on joining only: the potential outcomes are the same draws.
    columns = ["student_id", "wave", "outcome", "y0", "y1"]
    assert flat.potential[columns].equals(spread.potential[columns])
    with pytest.raises(ValueError, match="uptake_sd needs a self-selected design with schools"):
        StudyShape(n_clusters=6, design="cluster_randomized", uptake_sd=1.0)
    with pytest.raises(ValueError, match="uptake_sd needs"):
        StudyShape(uptake_sd=1.0)
    with pytest.raises(ValueError, match="uptake_sd must be"):
        StudyShape(n_clusters=6, uptake_sd=-1.0)
