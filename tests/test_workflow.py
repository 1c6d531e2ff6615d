"""One real Snakemake run of the whole workflow on a small simulated cohort, in a temporary
project folder, then checks on what it wrote: outputs, ledger, privacy, up-to-date rerun."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from outcomes.simulate import simulate_cohort, write_cohort
from outcomes.tables import read_metadata

from .conftest import ROOT, assert_no_identifiers, identifier_values

WORRY3 = {
    "name": "Worry (3 items, test)",
    "construct": "worry",
    "citation": "Defined in this test config.",
    "items": [{"id": 1, "topic": "on edge"}, {"id": 2, "topic": "cannot stop worrying"},
              {"id": 3, "topic": "worrying too much"}],
    "responses": {"Not at all": 0, "Several days": 1, "More than half the days": 2,
                  "Nearly every day": 3},
    "scoring": "sum",
    "min_answered": 3,
    "direction": "lower_is_better",
}  # fmt: skip

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
pytestmark = pytest.mark.workflow


def _snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(project), "--cores", "2",
         *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder with the repository's config and a 300-student simulated cohort."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "config", root / "config")
    # A user-defined instrument, scored end to end: a 3-item "worry" scale on the first three
    # GAD-7 items (a subset, so its baseline is not collinear with another outcome's).
    cohort_file = root / "config/cohorts/demo.yaml"
    cohort = yaml.safe_load(cohort_file.read_text())
    cohort["instruments"] = {"worry3": WORRY3}
    cohort["outcomes"]["worry"] = {
        "instrument": "worry3", "columns": "Q4_{1..3}", "domain": "mental_health",
        "label": "Worry (custom)",
    }  # fmt: skip
    cohort_file.write_text(yaml.safe_dump(cohort, sort_keys=False))
    # The demo config without its caseness outcome (case_at_least), run beside it.
    plain = yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())
    plain["name"] = "demo_no_case"
    del (
        plain["outcomes"]["depression"]["case_at_least"],
        plain["outcomes"]["depression"]["case_label"],
    )
    (root / "config/cohorts/demo_no_case.yaml").write_text(yaml.safe_dump(plain, sort_keys=False))
    settings = yaml.safe_load((root / "config/config.yaml").read_text())
    settings["cohorts"] = ["demo", "demo_no_case"]
    (root / "config/config.yaml").write_text(yaml.safe_dump(settings))
    simulated = simulate_cohort(300, seed=99)
    write_cohort(simulated, root / "data/demo")
    run = _snakemake(root)
    assert run.returncode == 0, run.stderr[-3000:]
    return root, simulated


def test_outputs_exist(project):
    root, _ = project
    for path in [
        "data/interim/demo/baseline/responses.parquet",
        "data/interim/demo/followup/ledger.parquet",
        "data/processed/demo/scores.parquet",
        "data/processed/demo/reliability.parquet",
        "reports/demo/tables/estimates.csv",
        "reports/demo/tables/flow.csv",
        "reports/demo/report.html",
    ]:
        assert (root / path).is_file(), path


def test_estimates_table_contract(project):
    root, _ = project
    estimates = pd.read_csv(root / "reports/demo/tables/estimates.csv")
    required = {
        "outcome", "domain", "wave", "method", "estimand", "estimate", "std_error", "ci_low",
        "ci_high", "p_value", "p_adjusted", "hedges_g", "g_ci_low", "g_ci_high",
        "n_participants", "n_comparison", "direction",
    }  # fmt: skip
    assert required <= set(estimates.columns)
    # 7 outcomes (6 + the user-defined one) and the PHQ-9 caseness indicator, each x
    # (unadjusted at baseline and at follow-up, and ancova, ipw, aipw, matching, did at
    # follow-up: config/cohorts/demo.yaml).
    assert len(estimates) == 8 * 7
    assert (estimates["outcome_type"] == "binary").sum() == 7
    assert (estimates["outcome"] == "worry").sum() == 7
    assert not estimates.duplicated(["outcome", "wave", "method", "estimand"]).any()
    assert (estimates["ci_low"] < estimates["estimate"]).all()
    assert (estimates["estimate"] < estimates["ci_high"]).all()
    assert estimates["p_adjusted"].ge(estimates["p_value"] - 1e-12).all()


def test_demo_without_caseness_runs_to_a_report(project):
    root, _ = project
    estimates = pd.read_csv(root / "reports/demo_no_case/tables/estimates.csv")
    assert (estimates["outcome_type"] == "continuous").all()
    assert "depression_case" not in set(estimates["outcome"])
    assert len(estimates) == 6 * 7  # 6 outcomes x (unadjusted twice + 5 methods)
    html = (root / "reports/demo_no_case/report.html").read_text()
    assert "Students above a screening cut-off" not in html
    assert "Depression (PHQ-9)" in html


def test_demo_rows_carry_cluster_aware_standard_errors(project):
    # config/cohorts/demo.yaml sets cluster: school (6 schools) and se: auto, so every method
    # is cluster-robust with the small-sample (CR2, Bell-McCaffrey) correction.
    root, _ = project
    estimates = pd.read_csv(root / "reports/demo/tables/estimates.csv")
    assert set(estimates["se_type"]) == {"CR2_BM", "m_estimation_CR1", "paired_CR2_BM"}
    assert set(estimates["n_clusters"]) == {6}
    clusters = pd.read_csv(root / "reports/demo/tables/clusters.csv")
    assert len(clusters) == 7 * 2 and clusters["icc"].notna().all()
    html = (root / "reports/demo/report.html").read_text()
    assert "computed from the 6 school groups" in html


def test_ledger_matches_the_exports(project):
    root, simulated = project
    for wave in ("baseline", "followup"):
        ledger = pd.read_parquet(root / f"data/interim/demo/{wave}/ledger.parquet")
        responses = pd.read_parquet(root / f"data/interim/demo/{wave}/responses.parquet")
        assert len(ledger) == len(simulated.exports[wave])
        assert (ledger["disposition"] == "analysed").sum() == len(responses)
        meta = read_metadata(root / f"data/interim/demo/{wave}/responses.parquet")
        assert meta["sources"][0]["rows_read"] == len(ledger)


def test_no_identifier_reaches_any_output(project):
    root, simulated = project
    identifiers = identifier_values(simulated.exports.values())
    assert any("@" in v for v in identifiers) and len(identifiers) > 500
    outputs = [p for d in ("data/interim", "data/processed", "reports", "logs")
               for p in (root / d).rglob("*") if p.is_file()]  # fmt: skip
    assert len(outputs) >= 15
    assert_no_identifiers(outputs, identifiers)


def test_second_run_is_up_to_date(project):
    root, _ = project
    run = _snakemake(root, "--dry-run")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_report_is_self_contained(project):
    root, _ = project
    html = (root / "reports/demo/report.html").read_text()
    assert "<svg" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html
    assert "Loneliness (UCLA-3)" in html and "Worry (custom)" in html


def test_lint_reports_only_the_explained_warning():
    # README.md ("snakemake --lint") explains the one lint we keep: rules name no conda
    # environment or container, because the software environment is the project's .venv
    # built from pyproject.toml. Any other lint fails this test.
    run = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(ROOT), "--lint"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = run.stdout + run.stderr
    lints = {line.strip() for line in output.splitlines() if line.startswith("    * ")}
    assert lints <= {"* Specify a conda environment or container for each rule.:"}, output
    rules = re.findall(r"Lints for rule (\w+)", output)
    assert sorted(rules) == ["analyze", "ingest", "report", "score"] or not rules


def test_snakemake_report_archive_builds(project, tmp_path):
    # `snakemake --report` collects every deliverable annotated with report(...).
    root, _ = project
    archive = tmp_path / "archive.zip"
    run = _snakemake(root, "--report", str(archive))
    assert run.returncode == 0, run.stderr[-2000:]
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert any(n.endswith("report.html") for n in names)
    assert any(n.endswith("estimates.csv") for n in names)


def _bad_project(root: Path) -> Path:
    """A project with the demo config and a small cohort whose follow-up export has an
    answer that is not in the PHQ-9 key (data row 5, column Q3_3)."""
    shutil.copytree(ROOT / "config", root / "config")
    write_cohort(simulate_cohort(120, seed=5, mess=False), root / "data/demo")
    path = root / "data/demo/followup.csv"
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    cells = lines[3 + 4].split(",")
    column = lines[0].split(",").index("Q3_3")
    cells[column] = "Sometimes"
    lines[3 + 4] = ",".join(cells)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    return root


def test_outcomes_run_prints_one_message_and_no_traceback(tmp_path):
    root = _bad_project(tmp_path)
    outcomes = str(Path(sys.executable).with_name("outcomes"))
    shutil.copy(ROOT / "Snakefile", root / "Snakefile")
    shutil.copytree(ROOT / "workflow", root / "workflow")
    run = subprocess.run([outcomes, "run"], cwd=root, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 2
    output = run.stdout + run.stderr
    assert "Traceback" not in output and output.count("outcomes: error:") == 1
    assert "followup.csv, row 8, column 'Q3_3'" in run.stderr  # 3 header rows + data row 5
    assert not (root / "data/interim/demo/followup/responses.parquet").exists()
    # A config mistake is one message too, before Snakemake starts.
    cohort_file = root / "config/cohorts/demo.yaml"
    cohort = yaml.safe_load(cohort_file.read_text())
    cohort["waves"].append("summer")
    cohort_file.write_text(yaml.safe_dump(cohort))
    run = subprocess.run([outcomes, "run"], cwd=root, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 2 and "a wave has no source" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
