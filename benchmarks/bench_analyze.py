"""Benchmark: the analyze stage, per estimate with a CI, against DoWhy's propensity weighting.

Measured in the same run, each in a fresh process (timed: the call only, after imports and
reading the inputs):

- ours, whole stage: ``outcomes.analysis.analyze`` on the demo plan (unadjusted, ancova, ipw,
  aipw, matching, did for six outcomes); time per estimate = stage time / estimates with a CI;
- ours, one estimate: ``outcomes.analysis.causal.ipw`` of loneliness, ATE, complete cases;
- reference: DoWhy's ``backdoor.propensity_score_weighting`` estimate of the same ATE with a
  95% CI (its bootstrap, default 399 resamples), on the same complete-case rows and the same
  design columns, with the same unpenalized logistic propensity model fitted to convergence,
  the normalized (Hajek) weights of our estimator and no clipping of the scores.

Reports the times, DoWhy's time over ours, and the relative difference of the two point
estimates (plus DoWhy's estimate under its defaults, to show what had to match) in
BENCHMARKS.md. Usage (an environment with ``pip install -e ".[benchmark]"``):
``python benchmarks/bench_analyze.py [--rows 100000] [--repeat 3]``.
The cohort is simulated once by ``outcomes.simulate`` into ``benchmarks/data/`` (git-ignored);
ingest and scoring run untimed before the measurements (ingest has its own benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from common import replace_section  # benchmarks/common.py (the script's folder is on sys.path)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTCOME = "loneliness"  # the outcome of the one-estimate comparison
SEED = 2026  # the demo cohort's seed
TREATMENT = "participant"
TABLES = ("scores", "reliability", "items", "safety")


def prepare(rows: int) -> dict:
    """Simulate (once), ingest and score a ``rows``-student cohort; write the analyze stage's
    inputs and DoWhy's complete-case design to ``benchmarks/data/analyze_<rows>/``."""
    import pandas as pd
    import yaml

    from outcomes.analysis import analysis_panel
    from outcomes.analysis.propensity import covariate_columns, design_matrix
    from outcomes.config import load_cohort
    from outcomes.ingest import ingest_wave
    from outcomes.instruments.stage import score_cohort
    from outcomes.simulate import simulate_cohort, write_cohort

    folder = HERE / "data" / f"analyze_{rows}"
    raw = yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())
    if not all((folder / f"{wave}.csv").exists() for wave in raw["waves"]):
        write_cohort(simulate_cohort(rows, seed=SEED), folder)
    for source in raw["sources"]:
        source["path"] = str(folder / f"{source['wave']}.csv")
    config = folder / "cohort.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    cohort = load_cohort(config)

    responses = []
    for wave in cohort.waves:
        responses.append(folder / f"responses_{wave}.parquet")
        ingest_wave(cohort, wave, responses[-1], folder / f"ledger_{wave}.parquet")
    scores = score_cohort(cohort, responses, *(folder / f"{name}.parquet" for name in TABLES))[
        "scores"
    ]

    # The propensity terms of the analyze stage for this outcome (outcome's baseline first).
    baseline = f"{OUTCOME}_baseline"
    terms = [baseline, *(t for t in cohort.plan.covariates if t != baseline)]
    panel = analysis_panel(scores, cohort)
    frame = panel[panel[OUTCOME].notna()]
    frame = frame[frame[covariate_columns(frame, terms)].notna().all(axis=1)]
    design = design_matrix(frame, terms).drop(columns="Intercept")
    names = {c: c.replace("C(", "").replace(")[T.", "_").replace("]", "") for c in design}
    names = {c: "".join(ch if ch.isalnum() else "_" for ch in n) for c, n in names.items()}
    dowhy_input = design.rename(columns=names).assign(
        **{
            TREATMENT: (frame["group"] == "participant").astype(int),
            OUTCOME: frame[OUTCOME].astype(float),
        }
    )
    # The same design columns by a second route (pandas dummies) before handing them over.
    dummies = pd.get_dummies(frame["gender"], prefix="gender", drop_first=True, dtype=float)
    dummies.columns = ["".join(ch if ch.isalnum() else "_" for ch in c) for c in dummies]
    for column in dummies:
        assert (dummies[column] == dowhy_input[column]).all(), column
    dowhy_input.reset_index(drop=True).to_parquet(folder / "dowhy_input.parquet")
    return {
        "folder": folder,
        "config": config,
        "terms": terms,
        "covariates": list(names.values()),
        "panel_rows": len(panel),
        "complete_rows": len(frame),
        "participants": int(dowhy_input[TREATMENT].sum()),
    }


READ = """
import json, time
import numpy as np, pandas as pd
from pathlib import Path
folder = Path({folder!r})
"""

OURS_ANALYZE = """
from outcomes.analysis import analyze
from outcomes.config import load_cohort, load_settings
cohort = load_cohort({config!r})
settings = load_settings({settings!r})
scores = pd.read_parquet(folder / "scores.parquet")
ledger = pd.concat([pd.read_parquet(folder / f"ledger_{{w}}.parquet") for w in cohort.waves],
                   ignore_index=True)
scored = {{name: pd.read_parquet(folder / f"{{name}}.parquet")
          for name in ("reliability", "items", "safety")}}
start = time.perf_counter()
tables = analyze(scores, ledger, cohort, settings, scored)
seconds = time.perf_counter() - start
table = tables["estimates"]
with_ci = int(table[["ci_low", "ci_high"]].notna().all(axis=1).sum())
row = table[(table["outcome"] == {outcome!r}) & (table["method"] == "ipw")].iloc[0]
print(json.dumps({{"seconds": seconds, "estimates": len(table), "with_ci": with_ci,
                  "outcomes": int(table["outcome"].nunique()),
                  "methods": list(dict.fromkeys(table["method"])),
                  "ipw_estimand": row["estimand"], "ipw_estimate": row["estimate"]}}))
"""

OURS_IPW = """
from outcomes.analysis import analysis_panel, causal
from outcomes.config import load_cohort
cohort = load_cohort({config!r})
panel = analysis_panel(pd.read_parquet(folder / "scores.parquet"), cohort)
start = time.perf_counter()
fit = causal.ipw(panel, {outcome!r}, covariates={terms!r}, estimand="ATE", missing="drop")
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "n": len(fit["rows"]),
                  **{{k: fit[k] for k in ("estimate", "std_error", "ci_low", "ci_high")}}}}))
"""

# One DoWhy call: model, identification, estimate and its CI. The propensity model is
# unpenalized (C=inf; scikit-learn >= 1.8 deprecates penalty=None) and solved by Newton's method
# to tol 1e-10, as statsmodels' Logit in ours; DoWhy's default clipping of the scores to
# [0.05, 0.95] is switched off, as ours has none. The wrapper only counts the model's fits.
DOWHY = """
import logging, warnings
from dowhy import CausalModel
from sklearn.linear_model import LogisticRegression
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
fits = []
_fit = LogisticRegression.fit
def counted_fit(self, *args, **kwargs):
    fits.append(1)
    return _fit(self, *args, **kwargs)
LogisticRegression.fit = counted_fit
METHOD = "backdoor.propensity_score_weighting"
def matched_params():
    model = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=100)
    return {{"propensity_score_model": model, "weighting_scheme": "ips_normalized_weight",
            "min_ps_score": 0.0, "max_ps_score": 1.0}}
covariates = {covariates!r}
data = pd.read_parquet(folder / "dowhy_input.parquet")
np.random.seed({seed})  # DoWhy's bootstrap draws from numpy's global generator
start = time.perf_counter()
model = CausalModel(data=data, treatment={treatment!r}, outcome={outcome!r},
                    common_causes=covariates)
identified = model.identify_effect()
estimate = model.estimate_effect(identified, method_name=METHOD, target_units="ate",
                                 confidence_intervals=True, method_params=matched_params())
ci_low, ci_high = estimate.get_confidence_intervals()
seconds = time.perf_counter() - start
boot = estimate.estimator._bootstrap_estimates
ps = data["propensity_score"]
result = {{"seconds": seconds, "estimate": float(estimate.value), "ci_low": float(ci_low),
          "ci_high": float(ci_high), "bootstrap_sd": float(np.std(boot.estimates)),
          "resamples": int(boot.params["num_simulations"]), "n": len(data), "fits": len(fits),
          "outside_05_95": int(((ps < 0.05) | (ps > 0.95)).sum())}}

def point(method_params):
    frame = pd.read_parquet(folder / "dowhy_input.parquet")
    model = CausalModel(data=frame, treatment={treatment!r}, outcome={outcome!r},
                        common_causes=covariates)
    return float(model.estimate_effect(model.identify_effect(), method_name=METHOD,
                                       target_units="ate", method_params=method_params).value)

lbfgs = LogisticRegression(C=np.inf, max_iter=1000)
result["variants"] = {{
    "defaults": point({{}}),
    "unpenalized_lbfgs": point({{**matched_params(), "propensity_score_model": lbfgs}}),
    "matched_ips_weight": point({{**matched_params(), "weighting_scheme": "ips_weight"}}),
}}
print(json.dumps(result))
"""


def measure(code: str) -> dict:
    """Run ``code`` in a fresh Python process; it prints one JSON object last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = prepare(args.rows)
    read = READ.format(folder=str(data["folder"]))
    codes = {
        "analyze": read
        + OURS_ANALYZE.format(
            config=str(data["config"]),
            settings=str(ROOT / "config/config.yaml"),
            outcome=OUTCOME,
        ),
        "ipw": read
        + OURS_IPW.format(config=str(data["config"]), outcome=OUTCOME, terms=data["terms"]),
        "dowhy": read
        + DOWHY.format(
            covariates=data["covariates"], treatment=TREATMENT, outcome=OUTCOME, seed=SEED
        ),
    }
    runs = {name: [] for name in codes}
    for _ in range(args.repeat):  # interleaved, so drift hits all alike
        for name, code in codes.items():
            runs[name].append(measure(code))
            print(name, json.dumps({k: v for k, v in runs[name][-1].items() if k != "methods"}))

    analyze_s = statistics.median(r["seconds"] for r in runs["analyze"])
    ipw_s = statistics.median(r["seconds"] for r in runs["ipw"])
    dowhy_s = statistics.median(r["seconds"] for r in runs["dowhy"])
    stage, ours, ref = runs["analyze"][-1], runs["ipw"][-1], runs["dowhy"][-1]
    if ours["n"] != ref["n"] or ours["n"] != data["complete_rows"]:
        raise RuntimeError(f"different rows: ours {ours['n']}, DoWhy {ref['n']}")
    per_estimate = analyze_s / stage["with_ci"]

    def rel(value: float) -> float:
        return abs(value - ours["estimate"]) / abs(ours["estimate"])

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "rows": args.rows,
        "repeat": args.repeat,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "versions": {p: version(p) for p in ("dowhy", "scikit-learn", "statsmodels", "pandas")},
        "panel_rows": data["panel_rows"],
        "complete_rows": data["complete_rows"],
        "participants": data["participants"],
        "dowhy_covariates": data["covariates"],
        "plan_estimand": stage["ipw_estimand"],
        "outcomes": stage["outcomes"],
        "methods": stage["methods"],
        "estimates": stage["estimates"],
        "with_ci": stage["with_ci"],
        "analyze_s": analyze_s,
        "per_estimate_s": per_estimate,
        "ipw_s": ipw_s,
        "dowhy_s": dowhy_s,
        "ratio_stage": dowhy_s / per_estimate,
        "ratio_ipw": dowhy_s / ipw_s,
        "ours": ours,
        "dowhy": ref,
        "rel_diff": rel(ref["estimate"]),
        "variants": {k: (v, rel(v)) for k, v in ref["variants"].items()},
    }
    print(json.dumps(result, indent=2))
    write_section(result)


def write_section(result: dict) -> None:
    """Replace the analyze section of BENCHMARKS.md with this run's figures."""
    r, ours, ref, v = result, result["ours"], result["dowhy"], result["variants"]
    versions = ", ".join(f"{p} {n}" for p, n in r["versions"].items())

    def ok(met: bool) -> str:
        return "met" if met else "**not met**"

    def ci(fit: dict) -> str:
        return f"[{fit['ci_low']:.5f}, {fit['ci_high']:.5f}]"

    section = f"""
## Analyze: per estimate with a 95% CI, {r["rows"]:,} simulated students, against DoWhy

Command (in an environment with `pip install -e ".[benchmark]"`): `python \
benchmarks/bench_analyze.py --rows {r["rows"]} --repeat {r["repeat"]}` ({r["date"]}, \
{r["machine"]}; {versions}). Demo cohort config, seed {SEED}: {r["panel_rows"]:,} students \
with a follow-up response. Each call timed in a fresh process (after imports and reading the \
inputs), median of {r["repeat"]}, the three interleaved.

| time per estimate with a 95% CI | DoWhy | outcomes | DoWhy / outcomes | target |
|---|---|---|---|---|
| analyze stage: {r["analyze_s"]:.2f} s for {r["with_ci"]} estimates ({r["outcomes"]} \
outcomes; {", ".join(r["methods"])}) | {r["dowhy_s"]:.2f} s | {r["per_estimate_s"]:.3f} s | \
{r["ratio_stage"]:.1f}x | >= 20x, {ok(r["ratio_stage"] >= 20)} |
| IPW alone, {OUTCOME}, ATE (the plan's ipw rows are \
{r["plan_estimand"]}) | {r["dowhy_s"]:.2f} s | {r["ipw_s"]:.3f} s | \
{r["ratio_ipw"]:.1f}x | >= 20x, {ok(r["ratio_ipw"] >= 20)} |

Same effect, same {r["complete_rows"]:,} complete-case rows ({r["participants"]:,} \
participants), same design (intercept, gender dummies, grade level, baseline loneliness and \
stress), same unpenalized logit propensity model, normalized (Hajek) ATE weights:

| | estimate | 95% CI | SE | CI method |
|---|---|---|---|---|
| outcomes `causal.ipw` | {ours["estimate"]:.6f} | {ci(ours)} | {ours["std_error"]:.5f} | \
M-estimation sandwich (propensity model included), normal |
| DoWhy `propensity_score_weighting` | {ref["estimate"]:.6f} | {ci(ref)} | \
{ref["bootstrap_sd"]:.5f} (bootstrap SD) | basic bootstrap, {ref["resamples"]} resamples \
(its default) |

Relative difference of the point estimates: {r["rel_diff"]:.1e} (target <= 1e-3, \
{ok(r["rel_diff"] <= 1e-3)}).

The DoWhy call (timed as a whole: model, identification, estimate, CI):

```python
model = CausalModel(data=data, treatment="participant", outcome="{OUTCOME}",
                    common_causes={ref_covariates(r)})
estimate = model.estimate_effect(
    model.identify_effect(), method_name="backdoor.propensity_score_weighting",
    target_units="ate", confidence_intervals=True,
    method_params={{"propensity_score_model": LogisticRegression(
                       C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=100),
                   "weighting_scheme": "ips_normalized_weight",
                   "min_ps_score": 0.0, "max_ps_score": 1.0}})
ci_low, ci_high = estimate.get_confidence_intervals()
```

What had to match (DoWhy's point estimate, relative difference to ours):

| DoWhy propensity model and options | estimate | rel. diff. |
|---|---|---|
| its defaults: `LogisticRegression()` (L2, C = 1, lbfgs), scores clipped to [0.05, 0.95] \
| {v["defaults"][0]:.6f} | {v["defaults"][1]:.1e} |
| unpenalized (`C=np.inf`), lbfgs at its default tol 1e-4, no clipping | \
{v["unpenalized_lbfgs"][0]:.6f} | {v["unpenalized_lbfgs"][1]:.1e} |
| as timed, `weighting_scheme="ips_weight"` instead of `"ips_normalized_weight"` | \
{v["matched_ips_weight"][0]:.6f} | {v["matched_ips_weight"][1]:.1e} |
| as timed | {ref["estimate"]:.6f} | {r["rel_diff"]:.1e} |

Two of DoWhy's defaults differ from ours. Its propensity model is L2-penalized (C = 1) and
solved by lbfgs, which stops at its tolerance (1e-4) short of the maximum-likelihood fit;
unpenalized and solved by Newton's method to 1e-10 it gives the coefficients of statsmodels'
Logit that ours uses. It clips the scores to [0.05, 0.95] ({ref["outside_05_95"]} of the \
{r["complete_rows"]:,} scores lie outside); ours does not clip, so the clipping is switched off.
Both weighting schemes give the Hajek estimate: DoWhy divides each group's weighted sum by that
group's sum of weights. {refit_note(ref)}
"""
    replace_section("analyze", section)


def ref_covariates(result: dict) -> str:
    return json.dumps(result["dowhy_covariates"])


def refit_note(ref: dict) -> str:
    """How often DoWhy fitted the propensity model in the timed call, and what it implies."""
    if ref["fits"] == 1:
        return (
            "DoWhy fits the propensity model once in the whole call: the estimate adds a "
            "`propensity_score` column to the data, so every bootstrap resample reuses the "
            "full-sample scores and its CI ignores their estimation (ours accounts for it in "
            "the sandwich)."
        )
    return f"DoWhy fits the propensity model {ref['fits']} times in the whole call."


if __name__ == "__main__":
    main()
