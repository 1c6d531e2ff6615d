"""The analysis plan of any study shape: wave defaults, who is in which group, and the
errors a plan that cannot work gets before anything runs."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from outcomes.analysis.groups import group_membership
from outcomes.cli import main
from outcomes.config import check_sources, cohort_from_dict
from outcomes.errors import ConfigError

from .conftest import ROOT


@pytest.fixture
def demo_raw():
    return yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())


def _waves(raw, waves):
    raw = copy.deepcopy(raw)
    raw["waves"] = list(waves)
    raw["sources"] = [{"path": f"data/{w}.csv", "wave": w} for w in waves]
    raw["plan"] = {k: v for k, v in raw["plan"].items() if not k.endswith("_wave")}
    return raw


def test_defaults_of_the_demo(demo_raw):
    plan = cohort_from_dict(demo_raw).plan
    assert (plan.assignment_wave, plan.baseline_wave, plan.primary_wave) == (
        "baseline", "baseline", "followup",
    )  # fmt: skip
    assert plan.estimate_waves == ("followup",)
    assert (plan.design, plan.group_from, plan.se) == ("self_selected", "assignment", "auto")


def test_four_waves_estimate_every_wave_after_the_baseline(demo_raw):
    plan = cohort_from_dict(_waves(demo_raw, ["w1", "w2", "w3", "w4"])).plan
    assert plan.baseline_wave == "w1" and plan.estimate_waves == ("w2", "w3", "w4")
    assert plan.primary_wave == "w4"  # default: the last wave


def test_one_wave_is_a_cross_sectional_comparison(demo_raw):
    raw = _waves(demo_raw, ["spring"])
    raw["plan"] = {"methods": ["unadjusted", "ancova", "ipw"], "covariates": ["C(gender)"]}
    plan = cohort_from_dict(raw).plan
    assert plan.baseline_wave is None and plan.estimate_waves == ("spring",)


def test_no_baseline_estimates_from_the_assignment_wave(demo_raw):
    raw = _waves(demo_raw, ["mid", "end"])
    raw["plan"] = {"baseline_wave": None, "covariates": ["C(gender)", "grade_level"]}
    plan = cohort_from_dict(raw).plan
    assert plan.estimate_waves == ("mid", "end")


@pytest.mark.parametrize(
    ("waves", "plan", "key", "problem"),
    [
        (["spring"], {"baseline_wave": "spring"}, "plan.baseline_wave", "one-wave"),
        (["a", "b"], {"baseline_wave": None, "methods": ["did"]}, "plan.methods",
         "difference in differences needs a pre-program baseline"),
        (["a", "b"], {"baseline_wave": None, "covariates": ["stress_baseline"]},
         "plan.covariates", "baseline score"),
        (["a", "b"], {"baseline_wave": None, "methods": ["ipw"]}, "plan.covariates",
         "propensity"),
        (["a", "b", "c"], {"baseline_wave": "b", "assignment_wave": "a"},
         "plan.baseline_wave", "after the assignment wave"),
        (["a", "b"], {"primary_wave": "a"}, "plan.primary_wave", "wave with estimates"),
        (["a", "b"], {"assignment_wave": "z"}, "plan.assignment_wave", "unknown wave"),
    ],
)  # fmt: skip
def test_plans_that_cannot_work_are_refused(demo_raw, waves, plan, key, problem):
    raw = _waves(demo_raw, waves)
    raw["plan"] = plan
    with pytest.raises(ConfigError) as info:
        cohort_from_dict(raw, path="c.yaml")
    assert info.value.column == key and problem in info.value.problem


def test_cluster_robust_se_needs_a_cluster(demo_raw):
    raw = copy.deepcopy(demo_raw)
    raw["cluster"] = None
    raw["plan"]["se"] = "CR2"
    with pytest.raises(ConfigError, match="need a cluster column"):
        cohort_from_dict(raw)


def test_a_wave_without_a_source_fails_validate(demo_raw, tmp_path, capsys):
    raw = copy.deepcopy(demo_raw)
    raw["waves"] = ["baseline", "followup", "summer"]
    with pytest.raises(ConfigError, match="a wave has no source") as info:
        check_sources(cohort_from_dict(raw))
    assert "summer" in info.value.found
    (tmp_path / "cohorts").mkdir()
    (tmp_path / "cohorts/demo.yaml").write_text(yaml.safe_dump(raw))
    settings = {"cohorts": ["demo"], "cohort_dir": str(tmp_path / "cohorts")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(settings))
    assert main(["validate", "--config", str(tmp_path / "config.yaml")]) == 2
    assert "a wave has no source" in capsys.readouterr().err


def _scores(rows):
    return pd.DataFrame(rows, columns=["respondent_id", "wave", "group"])


def test_membership_intention_to_treat():
    # a: participant who is recorded as comparison at w2 (a switcher, still a participant);
    # b: comparison, missing w2, back at w3 (a return); c: first seen at w2 (late entrant).
    scores = _scores([
        ("a", "w1", "participant"), ("b", "w1", "comparison"),
        ("a", "w2", "comparison"), ("c", "w2", "participant"),
        ("a", "w3", "participant"), ("b", "w3", "comparison"), ("c", "w3", "participant"),
    ])  # fmt: skip
    m = group_membership(scores, ["w1", "w2", "w3"], assignment_wave="w1")
    by = m.set_index(["respondent_id", "wave"])
    assert by.loc[("a", "w2"), "group"] == "participant" and by.loc[("a", "w2"), "switched"]
    assert by.loc[("c", "w2"), "group"] is None and by.loc[("c", "w2"), "late_entrant"]
    assert by.loc[("b", "w3"), "group"] == "comparison"
    assert not by["in_cohort"].loc[["c"]].any()
    each = group_membership(scores, ["w1", "w2", "w3"], assignment_wave="w1",
                            group_from="each_wave")  # fmt: skip
    each = each.set_index(["respondent_id", "wave"])
    assert each.loc[("a", "w2"), "group"] == "comparison"
    assert each.loc[("c", "w2"), "group"] == "participant"


def test_membership_of_a_later_assignment_wave():
    # Groups fixed at w2: a student seen only at w1 is not analysed anywhere; w1 rows of the
    # cohort carry the assigned group (their baseline).
    scores = _scores([("a", "w1", "comparison"), ("z", "w1", "comparison"),
                      ("a", "w2", "participant"), ("a", "w3", "participant")])  # fmt: skip
    m = group_membership(scores, ["w1", "w2", "w3"], assignment_wave="w2")
    by = m.set_index(["respondent_id", "wave"])
    assert by.loc[("a", "w1"), "group"] == "participant"
    assert by.loc[("z", "w1"), "group"] is None and not by.loc[("z", "w1"), "late_entrant"]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["covariates"].update(group={"column": "x", "type": "numeric"}),
         "covariates.group"),
        (lambda c: c["covariates"].update(wave={"column": "x", "type": "numeric"}),
         "covariates.wave"),
        (lambda c: c["covariates"].update(cluster={"column": "x", "type": "categorical"}),
         "covariates.cluster"),
        (lambda c: c["covariates"].update(depression_1={"column": "x", "type": "numeric"}),
         "covariates.depression_1"),
        (lambda c: c["covariates"].update(stress_baseline={"column": "x", "type": "numeric"}),
         "covariates.stress_baseline"),
        (lambda c: c["covariates"].update(gpa={"column": "x", "type": "numeric"}),
         "covariates.gpa"),
        (lambda c: c["outcomes"].update(group=c["outcomes"].pop("gpa")), "outcomes.group"),
    ],
)  # fmt: skip
def test_names_that_collide_with_pipeline_columns_are_refused(demo_raw, edit, key):
    # A covariate named like a column the pipeline writes itself (group, wave, cluster), an
    # item ({outcome}_{item}) or an outcome's derived column would overwrite it.
    raw = copy.deepcopy(demo_raw)
    edit(raw)
    with pytest.raises(ConfigError) as info:
        cohort_from_dict(raw, path="c.yaml")
    assert info.value.column == key


def _two_waves(tmp_path, name):
    from outcomes.simulate_study import (
        StudyShape,
        simulate_study,
        study_cohort_config,
        write_study,
    )

    study = simulate_study(StudyShape(n_students=100, n_waves=2), seed=8)
    return study, lambda: (write_study(study, tmp_path),
                           study_cohort_config(study, tmp_path, name))[1]  # fmt: skip


def test_waves_pseudonymized_with_different_keys_stop_the_score_stage(tmp_path, monkeypatch):
    from outcomes.errors import ExportError
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import score_cohort

    _, config_of = _two_waves(tmp_path, "keys")
    raw = config_of()
    raw["pseudonym_key"] = {"env": "OUTCOMES_TEST_KEY"}
    cohort = cohort_from_dict(raw)
    paths = []
    for wave, key in (("wave1", "first-key-0123456789"), ("wave2", "other-key-0123456789")):
        monkeypatch.setenv("OUTCOMES_TEST_KEY", key)
        paths.append(tmp_path / f"{wave}.parquet")
        ingest_wave(cohort, wave, paths[-1], tmp_path / f"{wave}.ledger.parquet")
    with pytest.raises(ExportError, match="different keys") as info:
        score_cohort(cohort, paths)
    assert "first-key" not in str(info.value) and "other-key" not in str(info.value)


def test_ids_in_another_format_at_a_later_wave_stop_the_score_stage(tmp_path):
    # wave2's ids lost their leading "S" (a different export setting): nobody links, which
    # must not pass as 100% attrition.
    from outcomes.errors import ExportError
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import score_cohort

    study, config_of = _two_waves(tmp_path, "ids")
    study.exports["wave2"]["student_id"] = study.exports["wave2"]["student_id"].str[1:]
    cohort = cohort_from_dict(config_of())
    paths = []
    for wave in cohort.waves:
        paths.append(tmp_path / f"{wave}.parquet")
        ingest_wave(cohort, wave, paths[-1], tmp_path / f"{wave}.ledger.parquet")
    with pytest.raises(ExportError, match="few students of the wave1 wave are found") as info:
        score_cohort(cohort, paths)
    assert "0 of 100 (0%)" in info.value.found
    relaxed = cohort_from_dict({**config_of(), "min_linked_share": 0})
    assert len(score_cohort(relaxed, paths)["scores"]) > 100


def test_a_source_outside_the_project_is_refused_without_reading_it(demo_raw, tmp_path, capsys):
    from outcomes.config import check_paths, settings_from_dict

    raw = copy.deepcopy(demo_raw)
    raw["sources"][1]["path"] = "../../etc/passwd"
    cohort = cohort_from_dict(raw)
    settings = settings_from_dict({"cohorts": ["demo"]})
    with pytest.raises(ConfigError, match="outside the project folder") as info:
        check_paths(cohort, settings, root=ROOT)
    assert info.value.column == "sources.1.path" and "root:" not in str(info.value)
    # A data root the settings declare is allowed (e.g. an encrypted drive).
    raw["sources"][1]["path"] = str(tmp_path / "followup.csv")
    check_paths(cohort_from_dict(raw), settings_from_dict(
        {"cohorts": ["demo"], "data_roots": [str(tmp_path)]}), root=ROOT)  # fmt: skip
    # outcomes validate says so in one message.
    raw["sources"][1]["path"] = "../../etc/passwd"
    (tmp_path / "cohorts").mkdir()
    (tmp_path / "cohorts/demo.yaml").write_text(yaml.safe_dump(raw))
    config = {"cohorts": ["demo"], "cohort_dir": str(tmp_path / "cohorts")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["validate", "--config", str(tmp_path / "config.yaml")]) == 2
    err = capsys.readouterr().err
    assert "outside the project folder" in err and "root:x:0:0" not in err
