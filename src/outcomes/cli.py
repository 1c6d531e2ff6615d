"""The ``outcomes`` command. Each subcommand calls the same library functions as the workflow.

Errors in the user's input are printed without a traceback, and the exit status is 2; an
unexpected error says it is a bug (exit status 3).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from outcomes import __version__, options
from outcomes.errors import OutcomesError


def _simulate(args: argparse.Namespace) -> int:
    if args.study:
        return _simulate_study(args)
    from outcomes.simulate import simulate_cohort, write_cohort

    cohort = simulate_cohort(args.n, seed=args.seed, n_schools=args.schools, mess=not args.clean)
    written = write_cohort(cohort, args.output)
    for role, path in written.items():
        print(f"{role}: {path}")
    print(f"{cohort.truth['n_participants']} of {args.n} students joined the program")
    return 0


def _simulate_study(args: argparse.Namespace) -> int:
    import yaml

    from outcomes.simulate_study import (
        StudyShape,
        simulate_study,
        study_cohort_config,
        write_study,
    )

    try:
        shape = StudyShape(
            n_students=args.n, n_waves=args.waves, n_clusters=args.schools, design=args.design,
            baseline=not args.no_baseline and args.waves > 1,
            outcomes="numeric" if args.numeric else "mixed",
            caseness=args.caseness, item_missing=args.item_missing, attrition=args.attrition,
            switch_rate=args.switch_rate, late_entrants=args.late_entrants, icc=args.icc,
            effect=args.effect,
        )  # fmt: skip
        study = simulate_study(shape, seed=args.seed)
    except ValueError as exc:
        raise OutcomesError("this study shape cannot be simulated", found=str(exc)) from None
    out = Path(args.output)
    written = write_study(study, out)
    name = args.cohort or "simulated"
    config = study_cohort_config(study, out, name)
    config_path = out / f"{name}.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for role, path in written.items():
        print(f"{role}: {path}")
    print(f"cohort config: {config_path} (copy it to config/cohorts/ to run it)")
    print(f"{study.truth['n_participants']} of {args.n} students joined the program")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from outcomes.config import check_paths, load_cohort, load_settings

    settings = load_settings(args.config)
    for name in settings.cohorts:
        cohort = load_cohort(settings.cohort_path(name))
        check_paths(cohort, settings)
        print(f"{name}: {len(cohort.sources)} sources, {len(cohort.outcomes)} outcomes - ok")
    return 0


def _default_cohort_path(config: str) -> Path:
    from outcomes.config import load_settings

    settings = load_settings(config)
    return settings.cohort_path(settings.cohorts[0])


def _ingest(args: argparse.Namespace) -> int:
    import dataclasses

    from outcomes.config import Source, load_cohort
    from outcomes.ingest import ingest_wave

    cohort = load_cohort(args.config or _default_cohort_path(args.settings))
    export = Path(args.export).resolve()
    source = next((s for s in cohort.sources if Path(s.path).resolve() == export), None)
    if source is None:
        wave = args.wave or cohort.waves[0]
        source = Source(path=str(export), wave=wave)
    wave = args.wave or source.waves[0]
    cohort = dataclasses.replace(cohort, sources=(source,))
    out = Path(args.output)
    ledger_path = out.with_name(out.stem + ".ledger.parquet")
    result = ingest_wave(cohort, wave, out, ledger_path)
    for record in result.sources:
        print(f"{record['file']} ({record['format']}, wave {wave}): {record['rows_read']} rows "
              f"read, {record['rows_kept']} kept, {record['rows_excluded']} excluded")  # fmt: skip
        dropped = record["dropped_columns"]
        print(f"  identifier columns dropped: {', '.join(dropped['direct_identifier']) or '-'}")
        print(f"  free-text columns dropped:  {', '.join(dropped['free_text']) or '-'}")
    summary = result.summary()
    for row in summary.itertuples():
        print(f"  {row.disposition:20} {row.n:>8}")
    print(f"responses: {out}\nledger:    {ledger_path}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from outcomes.ingest import read_export
    from outcomes.ingest.draft import draft_cohort_config

    text = draft_cohort_config(read_export(args.export), args.cohort)
    out = Path(args.output or f"config/cohorts/{args.cohort}.yaml")
    if out.exists() and not args.force:
        raise OutcomesError(
            "the cohort file exists already", file=out, expected="a new file, or --force"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"draft written: {out} (check every line marked REVIEW)")
    return 0


def _read_table(path: str):
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise OutcomesError("file not found", file=file, expected="a CSV or Parquet file")
    if file.suffix.lower() == ".parquet":
        return pd.read_parquet(file)
    try:
        return pd.read_csv(file, sep=None, engine="python")
    except (ValueError, pd.errors.ParserError) as exc:
        raise OutcomesError("cannot read the table", file=file, expected="CSV with a header",
                            found=str(exc)[:200]) from None  # fmt: skip


def _print_table(table, fmt: str) -> None:
    import json

    import numpy as np

    if fmt == "json":
        records = table.replace({np.nan: None}).to_dict(orient="records")
        print(json.dumps(records, indent=2, default=float))
    elif fmt == "csv":  # for spreadsheets: formula-like text neutralized (outcomes.tables)
        from outcomes.tables import neutralize_formulas

        print(neutralize_formulas(table).to_csv(index=False, float_format="%.10g"), end="")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _compare(args: argparse.Namespace) -> int:
    from outcomes.comparison import compare

    table = compare(
        _read_table(args.file),
        group=args.group,
        treated=args.treated,
        comparison=args.comparison,
        outcome=args.outcome,
        covariates=args.covariates,
        method=args.method,
        estimand=args.estimand,
        baseline=args.baseline,
        direction=args.direction,
        cluster=args.cluster,
        se=args.se,
    )
    _print_table(table, args.format)
    return 0


def _balance(args: argparse.Namespace) -> int:
    from outcomes.comparison import balance

    table = balance(
        _read_table(args.file),
        group=args.group,
        treated=args.treated,
        comparison=args.comparison,
        covariates=args.covariates,
        method=args.method,
        estimand=args.estimand,
        wide=True,
    )
    _print_table(table, args.format)
    return 0


def _run(args: argparse.Namespace) -> int:
    """The workflow, with one message per failure at the end and no traceback.

    The settings and every cohort file are validated first (a config mistake is one
    message). Snakemake's own output goes to ``logs/outcomes-run.log``; a step that fails
    leaves its message beside its log (:func:`outcomes.workflow.error_file`), and those are
    printed at the end. A lock left by a killed run is removed (``--unlock``) and the run
    retried once, with ``--rerun-incomplete`` for the files it left unfinished.
    """
    import time

    from outcomes.config import check_paths, check_sources, load_cohort, load_settings

    if not Path("Snakefile").is_file():
        raise OutcomesError(
            "no Snakefile in the current folder",
            file=str(Path.cwd()),
            expected="to be run from the root of an outcomes project",
        )
    settings = load_settings(args.config)
    for name in settings.cohorts:
        cohort = load_cohort(settings.cohort_path(name))
        check_sources(cohort)
        check_paths(cohort, settings)
    local = Path(sys.executable).with_name("snakemake")
    snakemake = str(local) if local.is_file() else shutil.which("snakemake") or "snakemake"
    base = [snakemake, "--cores", str(args.cores), "--configfile", args.config]
    command = [*base, "--rerun-incomplete", *args.targets]
    run_log = Path("logs/outcomes-run.log")
    run_log.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print(f"running the workflow (Snakemake's output: {run_log})", flush=True)
    code = _snakemake(command, run_log)
    if code != 0 and "LockException" in run_log.read_text(encoding="utf-8", errors="replace"):
        print("a lock left by an interrupted run was removed; running again", flush=True)
        _snakemake([*base, "--unlock"], run_log.with_suffix(".unlock.log"))
        code = _snakemake(command, run_log)
    if code == 0:
        for name in settings.cohorts:
            print(f"Report: {Path.cwd() / 'reports' / name / 'report.html'}")
        return 0
    errors = sorted(
        (p for p in Path("logs").rglob("*.error") if p.stat().st_mtime >= started - 1),
        key=lambda p: p.stat().st_mtime,
    )
    for path in errors:
        print(path.read_text(encoding="utf-8").rstrip(), file=sys.stderr)
    if not errors:
        print(f"outcomes: error: the workflow stopped; see {run_log}", file=sys.stderr)
    return 2


def _snakemake(command: list[str], log_path: Path) -> int:
    with log_path.open("w", encoding="utf-8") as out:
        return subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outcomes", description="Evaluate a program from raw survey exports to a report."
    )
    parser.add_argument("--version", action="version", version=f"outcomes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="write a simulated cohort (exports + truth.json)")
    sim.add_argument("-n", type=int, default=1000, help="students (default 1000)")
    sim.add_argument("--seed", type=int, default=2027, help="random seed (default 2027)")
    sim.add_argument("--schools", type=int, default=6, help="schools (default 6)")
    sim.add_argument("--clean", action="store_true", help="no preview/test/duplicate mess")
    sim.add_argument("-o", "--output", default="data/demo", help="output folder")
    shape = sim.add_argument_group(
        "study shapes", "with --study: plain CSV exports of any shape, and a cohort config"
    )
    shape.add_argument("--study", action="store_true", help="simulate a study of any shape")
    shape.add_argument("--waves", type=int, default=2, help="survey waves, 1-6 (default 2)")
    shape.add_argument("--design", default="self_selected",
                       choices=["self_selected", "randomized", "cluster_randomized"])  # fmt: skip
    shape.add_argument("--no-baseline", action="store_true",
                       help="the first wave is already after the program started")  # fmt: skip
    shape.add_argument("--numeric", action="store_true", help="test scores only, no items")
    shape.add_argument("--caseness", action="store_true", help="PHQ-9 >= 10 as an outcome")
    shape.add_argument("--item-missing", type=float, default=0.0, help="share of skipped items")
    shape.add_argument("--attrition", type=float, default=0.15, help="per later wave")
    shape.add_argument("--switch-rate", type=float, default=0.0, help="students changing arm")
    shape.add_argument("--late-entrants", type=int, default=0, help="students first at wave 2")
    shape.add_argument("--icc", type=float, default=0.1, help="share of variance by school")
    shape.add_argument("--effect", type=float, default=0.3, help="planted effect in SD units")
    shape.add_argument("--cohort", help="name of the cohort config (default simulated)")
    sim.set_defaults(func=_simulate)

    val = sub.add_parser("validate", help="check config/config.yaml and every cohort file")
    val.add_argument("--config", default="config/config.yaml")
    val.set_defaults(func=_validate)

    ing = sub.add_parser("ingest", help="ingest one export alone; print the ledger summary")
    ing.add_argument("export", help="the export file")
    ing.add_argument("--config", help="cohort config (default: first cohort of --settings)")
    ing.add_argument("--settings", default="config/config.yaml", help="project settings")
    ing.add_argument("--wave", help="wave of the export (default: from the cohort's sources)")
    ing.add_argument("-o", "--output", required=True, help="responses Parquet to write")
    ing.set_defaults(func=_ingest)

    ini = sub.add_parser("init", help="write a draft cohort config from an export")
    ini.add_argument("export", help="the export file")
    ini.add_argument("--cohort", required=True, help="name of the new cohort")
    ini.add_argument("-o", "--output", help="default: config/cohorts/COHORT.yaml")
    ini.add_argument("--force", action="store_true", help="overwrite an existing file")
    ini.set_defaults(func=_init)

    for name, helptext in (
        ("compare", "estimate the participant - comparison difference in one outcome"),
        ("balance", "covariate balance before and after adjustment"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("file", help="a CSV or Parquet table, one row per person")
        cmd.add_argument("--group", required=True, help="column telling who took part")
        cmd.add_argument("--treated", required=True, nargs="+", help="its participant value(s)")
        cmd.add_argument(
            "--comparison", nargs="+", help="its comparison value(s); default: the rest"
        )
        cmd.add_argument("--covariates", nargs="*", default=[],
                         help="formula terms, e.g. age 'C(gender)' 'I(age**2)'")  # fmt: skip
        cmd.add_argument("--estimand", default=options.DEFAULT_ESTIMAND, choices=options.ESTIMANDS)
        cmd.add_argument("--format", default="table", choices=options.OUTPUT_FORMATS)
        if name == "compare":
            cmd.add_argument("--outcome", required=True, help="the outcome column")
            cmd.add_argument("--baseline", help="the outcome's baseline column (ancova, did)")
            cmd.add_argument(
                "--method",
                nargs="+",
                default=list(options.DEFAULT_METHODS),
                choices=options.METHODS,
            )
            cmd.add_argument("--direction", default="higher_is_better",
                             choices=options.DIRECTIONS)  # fmt: skip
            cmd.add_argument("--cluster", help="column naming each row's cluster (school, site)")
            cmd.add_argument(
                "--se",
                default=options.DEFAULT_SE,
                choices=options.SE_CHOICES,
                help="standard errors (auto: cluster-robust when --cluster is set)",
            )
            cmd.set_defaults(func=_compare)
        else:
            cmd.add_argument(
                "--method",
                nargs="+",
                default=["ipw"],
                choices=options.BALANCE_METHODS,
                help="adjustments to check",
            )
            cmd.set_defaults(func=_balance)

    run = sub.add_parser("run", help="run the Snakemake workflow in the current project")
    run.add_argument("targets", nargs="*", help="files to build (default: every report)")
    run.add_argument("--cores", type=int, default=2)
    run.add_argument("--config", default="config/config.yaml")
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. A problem with the user's input prints one message and exits 2;
    anything else is a bug: it says so (without the exception's text, which could hold a
    data value) and exits 3; ``OUTCOMES_DEBUG=1`` shows the traceback instead."""
    import os

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OutcomesError as exc:
        print(f"outcomes: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get("OUTCOMES_DEBUG"):
            raise
        print(f"outcomes: internal error ({type(exc).__name__}): this is a bug in outcomes, "
              "not a problem with your data; rerun with OUTCOMES_DEBUG=1 to see where",
              file=sys.stderr)  # fmt: skip
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
