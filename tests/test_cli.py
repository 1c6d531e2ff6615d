"""The `outcomes` command: each subcommand end to end, and errors without a traceback."""

from __future__ import annotations

import pandas as pd
import yaml

from outcomes.cli import main

from .conftest import demo_cohort_dict


def test_simulate_writes_exports_and_truth(tmp_path, capsys):
    assert main(["simulate", "-n", "60", "--seed", "4", "-o", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"baseline.csv", "followup.csv", "truth.json"}
    assert "students joined the program" in capsys.readouterr().out


def test_ingest_prints_the_ledger_summary(small_simulation, tmp_path, capsys):
    _, _, data_dir = small_simulation
    cohort_file = tmp_path / "cohort.yaml"
    cohort_file.write_text(yaml.safe_dump(demo_cohort_dict(data_dir)))
    out = tmp_path / "responses.parquet"
    code = main(["ingest", str(data_dir / "followup.csv"), "--config", str(cohort_file),
                 "-o", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    ledger = pd.read_parquet(tmp_path / "responses.ledger.parquet")
    assert set(ledger["wave"]) == {"followup"}  # the wave of the configured source
    kept = int((ledger["disposition"] == "analysed").sum())
    assert f"{len(ledger)} rows read, {kept} kept" in printed
    assert "RecipientEmail" in printed and "Q6" in printed
    assert len(pd.read_parquet(out)) == kept


def test_init_drafts_a_config_that_recognizes_the_instruments(small_simulation, tmp_path):
    _, _, data_dir = small_simulation
    out = tmp_path / "draft.yaml"
    assert main(["init", str(data_dir / "baseline.csv"), "--cohort", "spring", "-o", str(out)]) == 0
    text = out.read_text()
    draft = yaml.safe_load(text)
    # The demo survey's items carry each instrument's wording, so all five are recognized.
    found = {spec["instrument"]: spec["columns"] for spec in draft["outcomes"].values()}
    assert found["phq9"] == [f"Q3_{i}" for i in range(1, 10)]
    assert found["pss10"] == [f"Q1_{i}" for i in range(1, 11)]
    assert set(found) == {"pss10", "rses", "phq9", "gad7", "ucla3"}
    assert draft["respondent_id"] == "ExternalReference"
    assert text.count("REVIEW") >= 8
    assert "'RecipientEmail'" in text and "direct_identifier" in text
    assert main(["init", str(data_dir / "baseline.csv"), "--cohort", "spring", "-o", str(out)]) == 2


def test_errors_are_one_message_and_exit_2(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["init", str(empty), "--cohort", "x", "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("outcomes: error: file ") and "empty" in err
    assert "Traceback" not in err


def test_validate(capsys, tmp_path, monkeypatch):
    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == 0
    assert "demo: 2 sources, 6 outcomes - ok" in capsys.readouterr().out


def test_simulate_a_study_shape_writes_exports_and_a_config_that_loads(tmp_path, capsys):
    from outcomes.config import load_cohort

    code = main(["simulate", "--study", "-n", "120", "--waves", "3", "--schools", "6",
                 "--design", "randomized", "--numeric", "-o", str(tmp_path),
                 "--cohort", "x"])  # fmt: skip
    assert code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"wave1.csv", "wave2.csv", "wave3.csv", "truth.json", "x.yaml"} <= names
    cohort = load_cohort(tmp_path / "x.yaml")
    assert cohort.waves == ("wave1", "wave2", "wave3") and cohort.plan.design == "randomized"
    assert all(o.instrument.kind == "numeric" for o in cohort.outcomes)
    assert "cohort config" in capsys.readouterr().out


def test_compare_takes_a_cluster_column(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(3)
    school = np.repeat(np.arange(10), 20)
    joined = rng.random(200) < 0.4
    score = joined + rng.normal(size=200) + rng.normal(size=10)[school]
    frame = pd.DataFrame({"mentor": np.where(joined, "yes", "no"), "school": school,
                          "score": score})  # fmt: skip
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    code = main(["compare", str(path), "--group", "mentor", "--treated", "yes", "--outcome",
                 "score", "--cluster", "school", "--format", "csv"])  # fmt: skip
    assert code == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert set(out["se_type"]) == {"CR2_BM"} and set(out["n_clusters"]) == {10}


def test_an_unexpected_error_says_it_is_a_bug_without_a_traceback(monkeypatch, capsys):
    import outcomes.cli as cli

    def broken(args):
        raise KeyError("jane.doe@example.org")

    monkeypatch.setattr(cli, "_validate", broken)
    assert main(["validate"]) == 3
    err = capsys.readouterr().err
    assert "this is a bug" in err and "Traceback" not in err and "jane" not in err
