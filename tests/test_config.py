"""Config validation: defaults from the schema, clear errors naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from outcomes.config import cohort_from_dict, expand_columns, load_cohort, load_settings
from outcomes.errors import ConfigError

from .conftest import ROOT


@pytest.fixture
def demo_raw():
    return yaml.safe_load((ROOT / "config/cohorts/demo.yaml").read_text())


def test_committed_configs_validate():
    settings = load_settings(ROOT / "config/config.yaml")
    assert settings.cohorts == ("demo",) and settings.min_cell_size == 10
    cohort = load_cohort(ROOT / "config/cohorts/demo.yaml")
    assert cohort.outcome("depression").columns == tuple(f"Q3_{i}" for i in range(1, 10))
    # Defaults filled from the schema.
    assert cohort.exclude["status"][:2] == ["Survey Preview", "Survey Test"]
    assert cohort.missing_values == ()


def test_column_patterns():
    assert expand_columns("Q3_{1..3}") == ("Q3_1", "Q3_2", "Q3_3")
    assert expand_columns(["a", "b"]) == ("a", "b")
    assert expand_columns("gpa") == ("gpa",)


@pytest.mark.parametrize(
    ("edit", "key", "found"),
    [
        (lambda c: c["plan"].update(primary_wave="midpoint"), "plan.primary_wave", "midpoint"),
        (
            lambda c: c["outcomes"]["stress"].update(instrument="pss99"),
            "outcomes.stress.instrument",
            "pss99",
        ),
        (
            lambda c: c["outcomes"]["stress"].update(columns="Q1_{1..9}"),
            "outcomes.stress.columns",
            "9",
        ),
        (lambda c: c["plan"].update(methods=["magic"]), "plan.methods.0", "magic"),
        (lambda c: c["group"].update(comparison=["Yes"]), "group", "Yes"),
        (lambda c: c.update(cluster=None) or c["plan"].update(se="cluster"), "plan.se", None),
        (lambda c: c.pop("respondent_id"), "(top level)", None),
    ],
)
def test_errors_name_the_key(demo_raw, edit, key, found):
    raw = copy.deepcopy(demo_raw)
    edit(raw)
    with pytest.raises(ConfigError) as info:
        cohort_from_dict(raw, path="cohort.yaml")
    assert info.value.column == key
    assert info.value.file == "cohort.yaml"
    if found:
        assert found in info.value.found


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("cohorts: [demo\nalpha: 0.05\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.row is not None and "YAML" in info.value.expected
