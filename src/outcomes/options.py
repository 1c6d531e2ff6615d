"""Every analysis option, declared once.

The ``Literal`` types below are the one declaration of each option's valid values. The Python
API annotates and checks its keywords with them (:func:`check_option`), the command line takes
its ``choices`` from the tuples derived here, and ``tests/test_options.py`` checks that the
JSON schemas of the config files (``outcomes/schemas/*.schema.yaml``) list exactly the same
values and defaults.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from outcomes.errors import OutcomesError

#: Estimators, in the order the report lists them.
Method = Literal["unadjusted", "ancova", "ipw", "aipw", "matching", "did"]
#: ATT - effect on participants; ATE - on everyone; ATO - on the overlap population.
Estimand = Literal["ATT", "ATE", "ATO"]
#: Standard errors. ``auto``: cluster-robust whenever a cluster column is set (CR1 with 40 or
#: more clusters, CR2 with Bell-McCaffrey degrees of freedom below that), else each
#: estimator's own heteroskedasticity-robust default. ``HC3`` ignores clusters (explicit
#: opt-out); ``CR1`` / ``CR2`` force one cluster-robust variant.
SEChoice = Literal["auto", "HC3", "CR1", "CR2"]
#: p-value adjustment across a family of outcomes.
Multiplicity = Literal["bh", "holm", "none"]
#: A family: the outcomes of one domain (WWC), or all outcomes.
MultiplicityFamily = Literal["domain", "all"]
#: How students came to be in each group.
Design = Literal["self_selected", "randomized"]
#: Which group a student is analysed in at each wave: the one at the assignment wave
#: (intention to treat) or the one recorded at that wave.
GroupFrom = Literal["assignment", "each_wave"]
#: Trimming before the propensity-score methods.
Trim = Literal["none", "common_support"]
#: Direction of benefit of an outcome.
Direction = Literal["higher_is_better", "lower_is_better"]
#: Output formats of the ``compare`` and ``balance`` commands.
OutputFormat = Literal["table", "csv", "json"]
#: Adjustments whose balance ``outcomes.balance`` checks.
BalanceMethod = Literal["ipw", "matching"]

METHODS: tuple[str, ...] = get_args(Method)
ESTIMANDS: tuple[str, ...] = get_args(Estimand)
SE_CHOICES: tuple[str, ...] = get_args(SEChoice)
MULTIPLICITY: tuple[str, ...] = get_args(Multiplicity)
MULTIPLICITY_FAMILIES: tuple[str, ...] = get_args(MultiplicityFamily)
DESIGNS: tuple[str, ...] = get_args(Design)
GROUP_FROM: tuple[str, ...] = get_args(GroupFrom)
TRIMS: tuple[str, ...] = get_args(Trim)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)
BALANCE_METHODS: tuple[str, ...] = get_args(BalanceMethod)

#: The methods that fit a propensity-score model.
PROPENSITY_METHODS: tuple[str, ...] = ("ipw", "aipw", "matching")
#: The methods whose standard error comes from a regression (CR1/CR2 apply directly).
REGRESSION_METHODS: tuple[str, ...] = ("unadjusted", "ancova", "did")

DEFAULT_METHODS: tuple[str, ...] = ("unadjusted", "ancova")
DEFAULT_ESTIMAND = "ATT"
DEFAULT_SE = "auto"
#: Matching caliper in SDs of the logit propensity score (Austin 2011).
DEFAULT_CALIPER = 0.2
#: Below this many clusters ``se: auto`` uses CR2 with Bell-McCaffrey degrees of freedom
#: instead of CR1 (Cameron & Miller 2015 put the line for CR1 at roughly 40-50 clusters).
FEW_CLUSTERS = 40


def check_option(value: Any, options: Any, name: str) -> None:
    """Raise :class:`OutcomesError` unless ``value`` is one of the ``Literal`` ``options``.

    >>> check_option("ATT", Estimand, "estimand")
    >>> check_option("att", Estimand, "estimand")
    Traceback (most recent call last):
    ...
    outcomes.errors.OutcomesError: unknown estimand 'att'
      expected: one of 'ATT', 'ATE', 'ATO'
    """
    valid = get_args(options)
    if not isinstance(value, str) or value not in valid:
        raise OutcomesError(
            f"unknown {name} {value!r}", expected="one of " + ", ".join(map(repr, valid))
        )
