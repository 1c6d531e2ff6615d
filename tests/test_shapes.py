"""Any cohort, not only the demo: simulated studies of many shapes run through one real
Snakemake workflow, and each yields the rows its shape calls for.

The shapes (``outcomes.simulate_study``): one, two, three and four waves; no clusters, 6 and
60 schools; self-selected, randomized (with block fixed effects) and cluster-randomized;
with and without a pre-program baseline; with and without a caseness outcome; numeric
scores only; skipped items; attrition with returns, switchers and late entrants, analysed by
the group at the assignment wave and by the group at each wave. One Snakemake run builds
every cohort (small n, to keep ``make test`` fast).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from outcomes.config import load_cohort
from outcomes.simulate_study import StudyShape, simulate_study, study_cohort_config, write_study

from .conftest import ROOT, assert_no_identifiers

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
pytestmark = pytest.mark.workflow

#: name -> (shape, changes to the generated config's plan / covariates)
SHAPES: dict[str, tuple[StudyShape, dict]] = {
    "one_wave": (StudyShape(n_students=220, n_waves=1, baseline=False), {}),
    "two_waves_6_schools_case": (
        StudyShape(n_students=260, n_waves=2, n_clusters=6, caseness=True, item_missing=0.05),
        {},
    ),
    "four_waves_60_schools": (
        StudyShape(n_students=360, n_waves=4, n_clusters=60, switch_rate=0.05, late_entrants=15),
        {},
    ),
    "each_wave_groups": (
        StudyShape(n_students=240, n_waves=3, switch_rate=0.1, late_entrants=20),
        {"plan": {"group_from": "each_wave"}},
    ),
    "randomized_blocks": (
        StudyShape(n_students=260, n_waves=2, n_clusters=6, design="randomized"),
        {
            "covariates": {"school": {"column": "school", "type": "categorical"}},
            "plan": {"covariates": ["C(school)", "C(gender)", "grade_level"]},
        },
    ),
    "cluster_randomized": (
        StudyShape(n_students=260, n_waves=2, n_clusters=6, design="cluster_randomized"),
        {},
    ),
    "no_baseline": (StudyShape(n_students=240, n_waves=2, baseline=False), {}),
    "numeric_only": (StudyShape(n_students=240, n_waves=2, outcomes="numeric"), {}),
    # Follow-up exports without the group, school or background columns: they come from the
    # assignment wave (intention to treat).
    "background_only_at_wave1": (
        StudyShape(n_students=240, n_waves=3, n_clusters=6),
        {"drop_later": ["mentoring", "school", "gender", "grade_level"]},
    ),
    "unadjusted_only": (
        StudyShape(n_students=220, n_waves=2, design="randomized"),
        {"plan": {"methods": ["unadjusted"]}},
    ),
}


def _study(name: str, shape: StudyShape, changes: dict):
    study = simulate_study(shape, seed=sum(map(ord, name)))
    for wave in study.shape.waves[1:]:
        frame = study.exports[wave]
        study.exports[wave] = frame.drop(columns=changes.get("drop_later", []))
    return study


def _config(study, changes: dict, data_dir: Path, name: str):
    config = study_cohort_config(study, data_dir, name)
    for key, value in changes.items():
        if key == "drop_later":
            continue
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    (root / "config/cohorts").mkdir(parents=True)
    settings = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    settings["cohorts"] = list(SHAPES)
    (root / "config/config.yaml").write_text(yaml.safe_dump(settings))
    studies = {}
    for name, (shape, changes) in SHAPES.items():
        study = _study(name, shape, changes)
        config = _config(study, changes, Path("data/raw") / name, name)
        write_study(study, root / "data/raw" / name)
        (root / f"config/cohorts/{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        studies[name] = study
    run = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(root), "--cores", "2"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    return root, studies


def _table(root: Path, name: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(root / f"reports/{name}/tables/{table}.parquet")


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_shape_yields_the_rows_it_calls_for(project, name):
    root, studies = project
    shape = studies[name].shape
    cohort = load_cohort(root / f"config/cohorts/{name}.yaml")
    plan = cohort.plan
    estimates = _table(root, name, "estimates")
    outcomes = [o.name for o in cohort.outcomes]
    variants = [v for o in cohort.outcomes
                for v in (o.name, *([f"{o.name}_case"] if o.case_at_least else []))]  # fmt: skip
    assert list(dict.fromkeys(estimates["outcome"])) == variants
    # Every estimate wave gets one row per outcome x method; the baseline wave (when there is
    # one) the unadjusted baseline gap.
    waves = list(plan.estimate_waves)
    expected = len(variants) * len(plan.methods) * len(waves)
    if plan.baseline_wave is not None and "unadjusted" in plan.methods:
        expected += len(variants)
        gap = estimates[estimates["wave"] == plan.baseline_wave]
        assert set(gap["method"]) == {"unadjusted"}
    assert len(estimates) == expected
    assert set(estimates["wave"]) - {plan.baseline_wave} == set(waves)
    assert not estimates.duplicated(["outcome", "wave", "method"]).any()
    assert estimates["estimate"].notna().all() and estimates["std_error"].gt(0).all()
    assert (estimates["outcome_type"] == "binary").any() == shape.caseness
    # Standard errors follow the clusters: CR2 (Bell-McCaffrey) below 40 clusters, CR1 above.
    se_types = set(estimates["se_type"])
    if shape.n_clusters == 0:
        assert se_types <= {"welch", "HC3", "m_estimation", "paired"}
        assert estimates["n_clusters"].isna().all()
    elif shape.n_clusters < 40:
        assert se_types <= {"CR2_BM", "m_estimation_CR1", "paired_CR2_BM"}
        assert set(estimates["n_clusters"]) == {shape.n_clusters}
    else:
        assert se_types <= {"CR1", "m_estimation_CR1", "paired_CR1"}
        assert estimates["n_clusters"].max() == shape.n_clusters
    # Side tables: attrition at every wave after the assignment wave, ICC per outcome x wave
    # when clustered, reliability only for item outcomes.
    later = cohort.waves[cohort.waves.index(plan.assignment_wave) + 1 :]
    attrition = _table(root, name, "attrition")
    assert list(dict.fromkeys(attrition["wave"])) == list(later)
    assert len(attrition) == len(later) * (len(outcomes) + 1) * 3
    clusters = _table(root, name, "clusters")
    assert len(clusters) == (len(outcomes) * len(cohort.waves) if shape.n_clusters else 0)
    reliability = _table(root, name, "reliability")
    items = [o.name for o in cohort.outcomes if o.instrument.kind == "items"]
    assert set(reliability["outcome"]) == set(items)
    html = (root / f"reports/{name}/report.html").read_text()
    if plan.design == "randomized":
        assert "chose to join" not in html and "at random" in html
    else:
        assert "chose to join" in html
    if plan.methods == ("unadjusted",):
        assert "Adjusted difference" not in html


def test_every_row_is_accounted_for_and_no_identifier_leaks(project):
    root, studies = project
    for name, study in studies.items():
        for wave, export in study.exports.items():
            ledger = pd.read_parquet(root / f"data/interim/{name}/{wave}/ledger.parquet")
            assert len(ledger) == len(export)
            responses = pd.read_parquet(root / f"data/interim/{name}/{wave}/responses.parquet")
            assert (ledger["disposition"] == "analysed").sum() == len(responses)
    identifiers = set()
    for study in studies.values():
        for export in study.exports.values():
            identifiers |= set(export["email"]) | set(export["student_id"])
    identifiers.discard("")
    outputs = [p for d in ("data/interim", "data/processed", "reports", "logs")
               for p in (root / d).rglob("*") if p.is_file()]  # fmt: skip
    assert_no_identifiers(outputs, identifiers)


def test_four_waves_follow_the_cohort_across_waves(project):
    root, studies = project
    truth = studies["four_waves_60_schools"].truth
    flow = _table(root, "four_waves_60_schools", "flow")
    steps = flow.groupby(["step", "wave"])["n"].sum()
    assert truth["n_returners"] > 0 and steps.loc[["returned"]].sum() > 0
    assert steps.loc[("late_entrants", "wave2")] == truth["n_late_entrants"]
    # Switchers stay in the cohort: followed up + lost = assigned at every later wave.
    assigned = steps.loc[("kept", "wave1")]
    for wave in ("wave2", "wave3", "wave4"):
        assert steps.loc[("followed_up", wave)] + steps.loc[("lost_to_followup", wave)] == assigned
    assert steps.loc[["switched_group"]].sum() > 0


def test_later_exports_without_background_columns_keep_every_student(project):
    # wave2 and wave3 hold no group, school or covariate column: the students are analysed
    # in their wave-1 group and school, and no row is excluded for it.
    root, _ = project
    name = "background_only_at_wave1"
    for wave in ("wave2", "wave3"):
        ledger = pd.read_parquet(root / f"data/interim/{name}/{wave}/ledger.parquet")
        assert (ledger["disposition"] == "analysed").all()
    estimates = _table(root, name, "estimates")
    later = estimates[estimates["wave"] == "wave3"]
    assert (later["n_participants"] > 0).all() and set(later["n_clusters"]) == {6}
    flow = _table(root, name, "flow")
    assert flow.loc[flow["step"] == "switched_group", "n"].sum() == 0
    kept = flow[(flow["step"] == "kept") & (flow["wave"] == "wave3")]["n"].sum()
    ledger = pd.read_parquet(root / f"data/interim/{name}/wave3/ledger.parquet")
    assert kept == len(ledger)  # counted in their assigned group


def test_each_wave_groups_include_late_entrants(project):
    root, _ = project
    estimates = _table(root, "each_wave_groups", "estimates")
    flow = _table(root, "each_wave_groups", "flow")
    late = flow[(flow["step"] == "late_entrants") & (flow["wave"] == "wave2")]["n"].sum()
    followed = flow[(flow["step"] == "followed_up") & (flow["wave"] == "wave2")]["n"].sum()
    assert late > 0
    row = estimates[(estimates["wave"] == "wave2") & (estimates["method"] == "unadjusted")
                    & (estimates["outcome"] == "test_score")].iloc[0]  # fmt: skip
    # By the group at each wave, late entrants are analysed at their waves.
    assert row["n_participants"] + row["n_comparison"] > followed


def test_workflow_refuses_a_wave_without_a_source(project, tmp_path):
    root, _ = project
    bad = tmp_path / "bad"
    shutil.copytree(root / "config", bad / "config")
    cohort_file = bad / "config/cohorts/no_baseline.yaml"
    config = yaml.safe_load(cohort_file.read_text())
    config["waves"] = [*config["waves"], "wave9"]
    cohort_file.write_text(yaml.safe_dump(config, sort_keys=False))
    run = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(bad), "--dry-run"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "a wave has no source" in run.stdout + run.stderr
