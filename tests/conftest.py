"""Shared fixtures: a small simulated cohort written to disk with a matching config."""

from __future__ import annotations

from pathlib import Path

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
