"""The estimation engine: one dispatch for the analyze stage and outcomes.compare, with
cluster-aware standard errors in every method. Reference values: statsmodels' own
cluster-robust OLS, and identities of the sandwich estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from outcomes.analysis import causal
from outcomes.analysis.engine import EstimationPlan, OutcomeSpec, estimate_outcome, resolve_se
from outcomes.comparison import compare


def _clustered(n_clusters: int, size: int = 12, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_clusters), size)
    u = rng.normal(0, 0.6, n_clusters)[school]
    x = rng.normal(size=school.size) + 0.5 * u
    joined = rng.random(school.size) < 1 / (1 + np.exp(-(x + u)))
    y = 0.4 * joined + x + u + rng.normal(size=school.size)
    return pd.DataFrame({"group": np.where(joined, "participant", "comparison"), "x": x,
                         "y": y, "y0": x + rng.normal(size=school.size),
                         "school": [f"s{s:02d}" for s in school]})  # fmt: skip


def test_compare_cr1_equals_statsmodels_cluster_ols():
    # 60 clusters: se auto -> CR1. statsmodels' OLS with cov_type="cluster" (its default
    # correction G/(G-1) (N-1)/(N-K)) is the reference, to 1e-8 relative.
    data = _clustered(60)
    out = compare(data, group="group", treated="participant", outcome="y", covariates=["x"],
                  method=["unadjusted", "ancova"], cluster="school")  # fmt: skip
    out = out.set_index("method")
    frame = data.assign(t=(data["group"] == "participant").astype(float))
    groups = pd.factorize(frame["school"])[0]
    for method, formula in (("unadjusted", "y ~ t"), ("ancova", "y ~ t + x")):
        ref = smf.ols(formula, frame).fit(cov_type="cluster", cov_kwds={"groups": groups})
        assert out.loc[method, "estimate"] == pytest.approx(ref.params["t"], rel=1e-10)
        assert out.loc[method, "std_error"] == pytest.approx(ref.bse["t"], rel=1e-8)
        assert out.loc[method, "df"] == 59
        assert out.loc[method, "se_type"] == "CR1" and out.loc[method, "n_clusters"] == 60


def test_few_clusters_get_cr2_and_ignoring_them_is_explicit():
    data = _clustered(8)
    auto = compare(data, group="group", treated="participant", outcome="y", covariates=["x"],
                   cluster="school")  # fmt: skip
    assert set(auto["se_type"]) == {"CR2_BM"}
    plain = compare(data, group="group", treated="participant", outcome="y", covariates=["x"],
                    cluster="school", se="HC3")  # fmt: skip
    assert list(plain["se_type"]) == ["welch", "HC3"] and plain["n_clusters"].isna().all()
    forced = compare(data, group="group", treated="participant", outcome="y", covariates=["x"],
                     cluster="school", se="CR1")  # fmt: skip
    assert set(forced["se_type"]) == {"CR1"}


def test_ipw_cluster_sandwich_with_singleton_clusters():
    # Every unit its own cluster: the cluster-summed meat is the unit meat times G/(G-1), so
    # the SE is the unclustered M-estimation SE times sqrt(n/(n-1)) (identity of the formula).
    data = _clustered(30).reset_index(drop=True)
    data["unit"] = np.arange(len(data))
    plain = causal.ipw(data, "y", covariates=["x"], estimand="ATE")
    clustered = causal.ipw(data, "y", covariates=["x"], estimand="ATE", cluster="unit")
    n = len(data)
    assert clustered["estimate"] == pytest.approx(plain["estimate"], rel=1e-12)
    assert clustered["std_error"] == pytest.approx(
        plain["std_error"] * np.sqrt(n / (n - 1)), rel=1e-6
    )
    assert clustered["se_type"] == "m_estimation_CR1" and clustered["df"] == n - 1


def test_matching_pairs_are_clustered_by_the_participants_cluster():
    # The clustered SE is the CR1 SE of the mean pair difference with the pairs grouped by
    # the participant's school: an intercept-only OLS on the differences, by statsmodels.
    data = _clustered(50).reset_index(drop=True)
    fit = causal.matching(data, "y", covariates=["x"], caliper=None, cluster="school")
    pairs = fit["pairs"]
    matched = pairs[pairs["status"] == "matched"]
    d = (data.loc[matched["treated"], "y"].to_numpy()
         - data.loc[matched["control"], "y"].to_numpy())  # fmt: skip
    schools = data.loc[matched["treated"], "school"].to_numpy()
    ref = smf.ols("d ~ 1", pd.DataFrame({"d": d})).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(schools)[0]}
    )
    assert fit["estimate"] == pytest.approx(d.mean(), rel=1e-12)
    assert fit["std_error"] == pytest.approx(ref.bse["Intercept"], rel=1e-8)
    assert fit["se_type"] == "paired_CR1"


def test_every_method_is_cluster_aware():
    # 60 clusters: every method's SE is cluster-robust and counts its clusters (matching
    # counts the clusters of its matched participants, so it may count fewer).
    data = _clustered(60, size=20, seed=11)
    spec = OutcomeSpec("y", baseline="y0")
    plan = EstimationPlan(methods=("unadjusted", "ancova", "ipw", "aipw", "matching", "did"),
                          covariates=("x",), cluster="school", estimand="ATT")  # fmt: skip
    rows = estimate_outcome(data, spec, plan).set_index("method")
    assert set(rows["se_type"]) == {"CR1", "m_estimation_CR1", "paired_CR1"}
    assert (rows["n_clusters"].drop("matching") == 60).all()
    assert 50 <= rows.loc["matching", "n_clusters"] <= 60
    assert resolve_se(data, plan) == ("school", "CR1")


def test_one_cluster_falls_back_to_unclustered_errors():
    data = _clustered(1)
    assert resolve_se(data, EstimationPlan(cluster="school")) == (None, None)


def test_an_empty_wave_gives_counts_without_inference_and_a_report(tmp_path, settings):
    # Nobody answered wave2 (ingest refuses an export that keeps no row, so the analysis sees
    # a wave without scores): its rows carry n = 0 and no estimate, and the report says that
    # too few students answered (no ZeroDivisionError, no "nan").
    from outcomes.analysis import analyze
    from outcomes.config import cohort_from_dict
    from outcomes.errors import ExportError
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import score_responses
    from outcomes.report.render import render_report
    from outcomes.simulate_study import (
        StudyShape,
        simulate_study,
        study_cohort_config,
        write_study,
    )

    study = simulate_study(StudyShape(n_students=120, n_waves=2, baseline=False), seed=3)
    write_study(study, tmp_path)
    header = (tmp_path / "wave2.csv").read_text().splitlines()[0]
    (tmp_path / "wave2.csv").write_text(header + "\n")
    cohort = cohort_from_dict(study_cohort_config(study, tmp_path, "empty"))
    with pytest.raises(ExportError, match="keeps no response") as info:
        ingest_wave(cohort, "wave2")
    assert "no data rows" in info.value.found
    first = ingest_wave(cohort, "wave1")
    tables = analyze(score_responses(first.responses, cohort), first.ledger, cohort, settings)
    empty = tables["estimates"][tables["estimates"]["wave"] == "wave2"]
    assert len(empty) and empty["estimate"].isna().all()
    assert (empty["n_participants"] == 0).all() and (empty["se_type"] == "none").all()
    html = render_report(tables, cohort, settings)
    assert "Too few students answered at wave2" in html
    assert not __import__("re").search(r"\bnan\b", html)


def test_group_values_that_match_nothing_stop_ingest_with_a_hint(tmp_path):
    # The export says yes/no, the config Yes/No: no row would be kept, so ingest stops and
    # suggests the spelling it found (values shown only when they stand on ten rows or more).
    from outcomes.config import cohort_from_dict
    from outcomes.errors import ExportError
    from outcomes.ingest import ingest_wave
    from outcomes.simulate_study import (
        StudyShape,
        simulate_study,
        study_cohort_config,
        write_study,
    )

    study = simulate_study(StudyShape(n_students=120, n_waves=2), seed=4)
    study.exports["wave1"]["mentoring"] = study.exports["wave1"]["mentoring"].str.lower()
    write_study(study, tmp_path)
    cohort = cohort_from_dict(study_cohort_config(study, tmp_path, "case"))
    with pytest.raises(ExportError, match="no row has one of the group values") as info:
        ingest_wave(cohort, "wave1")
    assert info.value.column == "mentoring"
    assert "'yes' for 'Yes'" in info.value.found and "'no' for 'No'" in info.value.found
