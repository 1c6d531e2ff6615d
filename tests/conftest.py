"""Shared fixtures: a small simulated cohort written to disk with a matching config."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from outcomes.config import cohort_from_dict, settings_from_dict
from outcomes.simulate import simulate_cohort, write_cohort

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests/fixtures/samples"  # real exports, copied from shared/samples


def demo_cohort_dict(data_dir: Path) -> dict:
    """The committed demo cohort config, pointed at exports in ``data_dir``."""
    raw = yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())
    raw["sources"] = [
        {"path": str(data_dir / "baseline.csv"), "wave": "baseline"},
        {"path": str(data_dir / "followup.csv"), "wave": "followup"},
    ]
    return raw


@pytest.fixture(scope="session")
def small_simulation(tmp_path_factory):
    """A 400-student simulated cohort (seed 7) on disk, with its config and truth."""
    data_dir = tmp_path_factory.mktemp("small_cohort")
    simulated = simulate_cohort(400, seed=7)
    write_cohort(simulated, data_dir)
    cohort = cohort_from_dict(demo_cohort_dict(data_dir))
    return simulated, cohort, data_dir


@pytest.fixture(scope="session")
def settings():
    return settings_from_dict(yaml.safe_load((ROOT / "config/config.yaml").read_text()))


IDENTIFIER_COLUMNS = (
    "RecipientEmail", "IPAddress", "LocationLatitude", "LocationLongitude", "ExternalReference",
    "ResponseId", "Q6", "RecipientLastName",
)  # fmt: skip


def identifier_values(exports) -> set[str]:
    """Every identifying value in the given export frames (ids, emails, IPs, coordinates,
    response ids, last names, free text)."""
    values = set()
    for frame in exports:
        for column in IDENTIFIER_COLUMNS:
            values |= {v for v in frame[column] if v and v != "TEST"}
    return values


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        meta = " ".join(str(v) for v in (table.schema.metadata or {}).values())
        return meta + "\n" + table.to_pandas().to_csv()
    return path.read_text(encoding="utf-8", errors="replace")


def assert_no_identifiers(paths, identifiers: set[str]) -> None:
    """Fail if any identifier appears in any file. Parquet is decoded (cells and metadata),
    other files are read as text. Single-word values (emails, IPs, coordinates, ids, names)
    must not appear as a token; free-text values must not appear anywhere."""
    phrases = {v for v in identifiers if re.search(r"\s", v)}
    words = identifiers - phrases
    for path in paths:
        text = _text_of(path)
        tokens = set(re.split(r"[\s,;\"'{}\[\]()|<>=]+", text))
        leaked = (words & tokens) | {p for p in phrases if p in text}
        assert not leaked, f"{sorted(leaked)[:5]} found in {path}"
