"""Simulation study of the analyze stage: bias, RMSE and coverage of every estimator.

Each replication simulates a cohort with planted effects and self-selection
(:func:`outcomes.simulate.simulate_cohort`), runs it through ingest, scoring and the analyze
stage's :func:`outcomes.analysis.estimates` with the demo cohort's plan, and compares each
follow-up estimate with the planted truth (the sample ATT in ``truth.json``). ``make validate``
runs 500 replications and writes ``docs/validation.md``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from outcomes.analysis import estimates
from outcomes.config import cohort_from_dict, load_settings
from outcomes.ingest import ingest_wave
from outcomes.instruments.stage import score_responses
from outcomes.simulate import simulate_cohort, write_cohort

ROOT = Path(__file__).resolve().parents[2]


def replicate(seed: int, n_students: int = 1000, root: Path = ROOT) -> pd.DataFrame:
    """One replication: follow-up estimates of every method with the planted truth.

    Returns
    -------
    DataFrame
        Columns ``seed``, ``outcome``, ``method``, ``estimate``, ``std_error``, ``ci_low``,
        ``ci_high``, ``truth`` (score units) and ``sd`` (SD of the untreated follow-up score,
        for bias in SD units).
    """
    simulated = simulate_cohort(n_students, seed=seed)
    raw = yaml.safe_load((root / "config/cohorts/demo.yaml").read_text())
    settings = load_settings(root / "config/config.yaml")
    with tempfile.TemporaryDirectory() as folder:
        write_cohort(simulated, folder)
        raw["sources"] = [
            {"path": f"{folder}/{wave}.csv", "wave": wave} for wave in ("baseline", "followup")
        ]
        cohort = cohort_from_dict(raw)
        responses = pd.concat([ingest_wave(cohort, w).responses for w in cohort.waves])
    table = estimates(score_responses(responses, cohort), cohort, settings)
    table = table[(table["wave"] == cohort.plan.primary_wave)
                  & (table["outcome_type"] == "continuous")]  # fmt: skip
    truth = {row["outcome"]: row for row in simulated.truth["effects"]}
    return pd.DataFrame(
        {
            "seed": seed,
            "outcome": table["outcome"],
            "method": table["method"],
            "estimate": table["estimate"],
            "std_error": table["std_error"],
            "ci_low": table["ci_low"],
            "ci_high": table["ci_high"],
            "truth": table["outcome"].map(lambda o: truth[o]["truth_raw"]),
            "sd": table["outcome"].map(lambda o: truth[o]["sd_untreated_followup"]),
        }
    )


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per method and outcome: replications, bias (score units and SD units), RMSE (SD
    units), coverage of the 95% CI, mean SE over the SD of the estimates (SE calibration)."""
    runs = runs.assign(
        error=runs["estimate"] - runs["truth"],
        error_sd=(runs["estimate"] - runs["truth"]) / runs["sd"],
        covered=(runs["ci_low"] <= runs["truth"]) & (runs["truth"] <= runs["ci_high"]),
    )
    grouped = runs.groupby(["method", "outcome"], sort=False)
    summary = grouped.agg(
        replications=("seed", "size"),
        bias=("error", "mean"),
        bias_sd=("error_sd", "mean"),
        rmse_sd=("error_sd", lambda e: float(np.sqrt(np.mean(e**2)))),
        coverage=("covered", "mean"),
        mean_se=("std_error", "mean"),
        sd_estimate=("estimate", "std"),
    ).reset_index()
    summary["se_ratio"] = summary["mean_se"] / summary["sd_estimate"]
    return summary


def run_study(replications: int, n_students: int = 1000, first_seed: int = 10_000,
              workers: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Run ``replications`` replications (seeds ``first_seed`` ...) in parallel processes."""
    seeds = range(first_seed, first_seed + replications)
    workers = workers or min(os.cpu_count() or 1, 4)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(replicate, seeds, [n_students] * replications, chunksize=4))
    return pd.concat(parts, ignore_index=True)


def write_report(summary: pd.DataFrame, path: Path, command: str, seconds: float) -> None:
    """docs/validation.md: the table and how to read it."""
    by_method = (
        summary.groupby("method", sort=False)
        .agg(
            coverage=("coverage", "mean"),
            max_abs_bias_sd=("bias_sd", lambda b: b.abs().max()),
            mean_rmse_sd=("rmse_sd", "mean"),
            se_ratio=("se_ratio", "mean"),
        )
        .reset_index()
    )
    lines = [
        "# Validation: do the estimators recover planted effects?",
        "",
        f"Made by `{command}` ({summary['replications'].max()} replications of a simulated",
        f"1,000-student cohort, {seconds / 60:.1f} minutes on this machine). Each replication",
        "simulates a cohort with planted program effects and self-selection on baseline",
        "loneliness, stress, gender and grade level (`outcomes.simulate`), runs ingest,",
        "scoring and the analyze stage's estimates with the demo cohort's plan, and compares",
        "each follow-up estimate with the planted truth (the sample ATT). Bias and RMSE are",
        "in SD units of the untreated follow-up score. Targets for estimators whose",
        "assumptions hold: coverage 93-97%, |bias| < 0.02 SD.",
        "",
        "## By method (averaged over the six outcomes)",
        "",
        "| method | coverage | max abs bias (SD) | mean RMSE (SD) | mean SE / SD of estimates |",
        "|---|---|---|---|---|",
    ]
    for row in by_method.itertuples():
        lines.append(
            f"| {row.method} | {row.coverage:.1%} | {row.max_abs_bias_sd:.3f} | "
            f"{row.mean_rmse_sd:.3f} | {row.se_ratio:.2f} |"
        )
    lines += [
        "",
        "## By method and outcome",
        "",
        "| method | outcome | coverage | bias (score units) | bias (SD) | RMSE (SD) | SE ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary.itertuples():
        lines.append(
            f"| {row.method} | {row.outcome} | {row.coverage:.1%} | {row.bias:+.3f} | "
            f"{row.bias_sd:+.3f} | {row.rmse_sd:.3f} | {row.se_ratio:.2f} |"
        )
    lines += ["", EXPLANATION]
    path.write_text("\n".join(lines) + "\n")


EXPLANATION = """## Reading the misses

- **unadjusted** is biased by design: joiners started lonelier and more stressed, so the
  naive follow-up difference mixes the program's effect with who chose it. It is reported to
  show the size of that bias, never as an effect.
- **did** (difference in differences) assumes both groups would have changed alike without
  the program. In this simulation (as in real programs) students joined *because* of how
  they felt at baseline; their baseline scores are partly noise, which regresses to the
  mean at follow-up, so the change of joiners differs even without the program. DiD is
  biased here for the outcomes that drove joining; it is offered as a check, not a headline.
- **matching** with a 0.2 SD caliper estimates the effect on the participants who found a
  match, not on all participants; when the effect is the same for everyone (as here, up to
  the ceilings and floors of the scales) the two agree. Its bias meets the target, but its
  intervals are conservative (coverage up to about 98%, standard errors about 1.1-1.2
  times the spread of the estimates): the paired standard error treats the propensity score
  as known, and estimating it makes the matching estimator's true variance smaller (Abadie &
  Imbens 2016). The honest direction to miss in; a correction for the estimated score is
  future work.
- The simulation's effect is constant on a latent scale and items are cut into categories,
  so the effect in score units varies a little from student to student (floors, ceilings):
  estimators that weight students differently target slightly different averages.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=500)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "docs/validation.md"))
    parser.add_argument("--raw", default=None, help="also write every replication's rows (CSV)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    runs = run_study(args.replications, args.students)
    seconds = time.perf_counter() - start
    if args.raw:
        runs.to_csv(args.raw, index=False)
    summary = summarize(runs)
    command = f"python -m outcomes.validation --replications {args.replications}"
    write_report(summary, Path(args.out), command, seconds)
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
