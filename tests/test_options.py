"""Every option is declared once (outcomes.options): the config schemas, the command line and
the Python keywords list exactly its values and defaults."""

from __future__ import annotations

import inspect
from importlib import resources
from typing import get_args

import pytest
import yaml

from outcomes import options
from outcomes.analysis.engine import EstimationPlan
from outcomes.cli import build_parser
from outcomes.comparison import balance, compare
from outcomes.config import Plan


def _schema(name: str) -> dict:
    text = resources.files("outcomes").joinpath("schemas", f"{name}.schema.yaml").read_text()
    return yaml.safe_load(text)


PLAN = _schema("cohort")["properties"]["plan"]["properties"]
SETTINGS = _schema("settings")["properties"]


@pytest.mark.parametrize(
    ("schema", "declared"),
    [
        (PLAN["methods"]["items"]["enum"], options.METHODS),
        (PLAN["estimand"]["enum"], options.ESTIMANDS),
        (PLAN["se"]["enum"], options.SE_CHOICES),
        (PLAN["design"]["enum"], options.DESIGNS),
        (PLAN["group_from"]["enum"], options.GROUP_FROM),
        (PLAN["propensity"]["properties"]["trim"]["enum"], options.TRIMS),
        (SETTINGS["multiplicity"]["enum"], options.MULTIPLICITY),
        (SETTINGS["multiplicity_family"]["enum"], options.MULTIPLICITY_FAMILIES),
    ],
)
def test_schema_enums_are_the_declared_options(schema, declared):
    assert tuple(schema) == declared


def test_schema_defaults_are_the_declared_defaults():
    assert tuple(PLAN["methods"]["default"]) == options.DEFAULT_METHODS
    assert PLAN["estimand"]["default"] == options.DEFAULT_ESTIMAND
    assert PLAN["se"]["default"] == options.DEFAULT_SE
    assert PLAN["propensity"]["properties"]["caliper"]["default"] == options.DEFAULT_CALIPER
    assert Plan.__dataclass_fields__["se"].default == options.DEFAULT_SE
    assert EstimationPlan().caliper == options.DEFAULT_CALIPER


def _choices(command: str) -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {a.dest: a for a in sub._actions}


def test_cli_choices_and_defaults_are_the_declared_options():
    cmp = _choices("compare")
    assert tuple(cmp["method"].choices) == options.METHODS
    assert tuple(cmp["method"].default) == options.DEFAULT_METHODS
    assert tuple(cmp["estimand"].choices) == options.ESTIMANDS
    assert tuple(cmp["se"].choices) == options.SE_CHOICES
    assert cmp["se"].default == options.DEFAULT_SE
    assert tuple(cmp["direction"].choices) == options.DIRECTIONS
    assert tuple(cmp["format"].choices) == options.OUTPUT_FORMATS
    assert "cluster" in cmp
    bal = _choices("balance")
    assert tuple(bal["method"].choices) == options.BALANCE_METHODS


def test_python_keywords_use_the_declared_literals_and_defaults():
    params = inspect.signature(compare).parameters
    assert params["method"].default == options.DEFAULT_METHODS
    assert params["caliper"].default == options.DEFAULT_CALIPER
    assert params["se"].default == options.DEFAULT_SE
    assert inspect.signature(balance).parameters["caliper"].default == options.DEFAULT_CALIPER
    assert get_args(options.Method) == options.METHODS


@pytest.mark.parametrize(
    ("field", "value"),
    [("methods", ("magic",)), ("estimand", "att"), ("se", "cluster"), ("trim", "some")],
)
def test_a_bad_option_names_the_valid_values(field, value):
    from outcomes.errors import OutcomesError

    with pytest.raises(OutcomesError, match="expected: one of"):
        EstimationPlan(**{field: value})
