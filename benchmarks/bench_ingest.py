"""Benchmark: ingest a large Qualtrics-style export against pyarrow's own floor.

Measured in the same run, each in a fresh process (its own peak memory):

- floor: ``pyarrow.csv.read_csv`` of the export + ``pyarrow.parquet.write_table``;
- ours:  ``outcomes.ingest.ingest_wave`` (read, exclusions, label mapping, pseudonyms,
  ledger, two Parquet files).

Reports wall time and peak resident memory, and our ratios to the floor, in BENCHMARKS.md.
Usage: ``.venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 2]``.
The export is generated once by ``outcomes.simulate`` (60 item columns: PSS-10, RSES, PHQ-9,
GAD-7, UCLA-3, UCLA-LS v3 and GPA) into ``benchmarks/data/`` (git-ignored).
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
from pathlib import Path

from common import replace_section  # benchmarks/common.py (the script's folder is on sys.path)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHUNK = 100_000


def make_export(rows: int) -> Path:
    """Write a ``rows``-student baseline export (in chunks of 100,000 students)."""
    from outcomes.simulate import qualtrics_csv_text, simulate_cohort

    path = HERE / "data" / f"qualtrics_{rows}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            chunk = simulate_cohort(n, seed=start // CHUNK + 1, long_form=True, id_offset=start)
            text = qualtrics_csv_text(chunk.exports["baseline"])
            if start:
                text = text.split("\r\n", 3)[3]  # header rows only once
            handle.write(text)
    tmp.replace(path)
    return path


def cohort_config(export: Path, workdir: Path) -> Path:
    """The demo cohort config pointed at the benchmark export, plus the UCLA-LS v3 items."""
    import yaml

    raw = yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())
    raw["sources"] = [{"path": str(export), "wave": "baseline", "format": "qualtrics"}]
    raw["outcomes"]["loneliness_long"] = {
        "instrument": "ucla20",
        "columns": "Q7_{1..20}",
        "domain": "social",
    }
    path = workdir / "bench_cohort.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


FLOOR = """
import pyarrow.csv as pv, pyarrow.parquet as pq
table = pv.read_csv({export!r}, read_options=pv.ReadOptions(skip_rows_after_names=2))
pq.write_table(table, {out!r})
"""

OURS = """
from outcomes.config import load_cohort
from outcomes.ingest import ingest_wave
ingest_wave(load_cohort({config!r}), "baseline", {out!r}, {ledger!r})
"""

MEASURE = """
import resource, sys, time
start = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
wall = time.perf_counter() - start
print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure(code: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``code`` run in a fresh Python process."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    wall, peak = done.stdout.split()
    return float(wall), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    export = make_export(args.rows)
    work = HERE / "data" / "work"
    work.mkdir(parents=True, exist_ok=True)
    config = cohort_config(export, work)
    floor_code = FLOOR.format(export=str(export), out=str(work / "floor.parquet"))
    ours_code = OURS.format(
        config=str(config), out=str(work / "responses.parquet"), ledger=str(work / "ledger.parquet")
    )
    runs = {"floor": [], "ours": []}
    for _ in range(args.repeat):  # interleaved, so drift hits both alike
        runs["floor"].append(measure(floor_code))
        runs["ours"].append(measure(ours_code))
    floor_t = statistics.median(t for t, _ in runs["floor"])
    ours_t = statistics.median(t for t, _ in runs["ours"])
    floor_m = max(m for _, m in runs["floor"])
    ours_m = max(m for _, m in runs["ours"])
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "rows": args.rows,
        "file_mib": round(export.stat().st_size / 2**20, 1),
        "repeat": args.repeat,
        "floor_s": round(floor_t, 2),
        "ours_s": round(ours_t, 2),
        "time_ratio": round(ours_t / floor_t, 2),
        "floor_peak_mib": round(floor_m),
        "ours_peak_mib": round(ours_m),
        "memory_ratio": round(ours_m / floor_m, 2),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))
    write_section(result)


def write_section(result: dict) -> None:
    """Replace the ingest section of BENCHMARKS.md with this run's figures."""
    section = f"""
## Ingest: {result["rows"]:,} responses x 60 items (Qualtrics CSV, {result["file_mib"]} MiB)

Command: `.venv/bin/python benchmarks/bench_ingest.py --rows {result["rows"]} --repeat \
{result["repeat"]}` ({result["date"]}, {result["machine"]}). Floor: pyarrow's CSV read +
Parquet write of the same file, measured in the same run; median wall time, largest peak RSS.

| | floor (pyarrow) | outcomes ingest | ratio | target |
|---|---|---|---|---|
| wall time | {result["floor_s"]} s | {result["ours_s"]} s | {result["time_ratio"]}x | <= 2x |
| peak memory | {result["floor_peak_mib"]} MiB | {result["ours_peak_mib"]} MiB | \
{result["memory_ratio"]}x | <= 1.5x |
"""
    replace_section("ingest", section)


if __name__ == "__main__":
    main()
