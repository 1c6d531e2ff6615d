"""The ``outcomes`` command. Each subcommand calls the same library functions as the workflow.

Errors in the user's input are printed without a traceback, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from outcomes import __version__
from outcomes.errors import OutcomesError


def _simulate(args: argparse.Namespace) -> int:
    from outcomes.simulate import simulate_cohort, write_cohort

    cohort = simulate_cohort(args.n, seed=args.seed, n_schools=args.schools, mess=not args.clean)
    written = write_cohort(cohort, args.output)
    for role, path in written.items():
        print(f"{role}: {path}")
    print(f"{cohort.truth['n_participants']} of {args.n} students joined the program")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from outcomes.config import load_cohort, load_settings

    settings = load_settings(args.config)
    for name in settings.cohorts:
        cohort = load_cohort(settings.cohort_path(name))
        print(f"{name}: {len(cohort.sources)} sources, {len(cohort.outcomes)} outcomes - ok")
    return 0


def _run(args: argparse.Namespace) -> int:
    if not Path("Snakefile").is_file():
        raise OutcomesError(
            "no Snakefile in the current folder",
            file=str(Path.cwd()),
            expected="to be run from the root of an outcomes project",
        )
    snakemake = shutil.which("snakemake") or "snakemake"
    command = [snakemake, "--cores", str(args.cores), "--configfile", args.config, *args.targets]
    return subprocess.call(command)


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
    sim.set_defaults(func=_simulate)

    val = sub.add_parser("validate", help="check config/config.yaml and every cohort file")
    val.add_argument("--config", default="config/config.yaml")
    val.set_defaults(func=_validate)

    run = sub.add_parser("run", help="run the Snakemake workflow in the current project")
    run.add_argument("targets", nargs="*", help="files to build (default: every report)")
    run.add_argument("--cores", type=int, default=2)
    run.add_argument("--config", default="config/config.yaml")
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OutcomesError as exc:
        print(f"outcomes: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
