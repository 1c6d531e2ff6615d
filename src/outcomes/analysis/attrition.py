"""Attrition across survey waves and the What Works Clearinghouse (WWC) attrition standard.

The group of every student is fixed at an assignment wave; that cohort is the denominator of
every later wave. :func:`attrition_table` counts, per later wave, outcome and group, who is
still there (responded, outcome observed), who came back after missing a wave and who joined
late, and classifies the overall and differential attrition with
:func:`wwc_attrition_verdict` against both WWC boundaries.

Source of the boundary
----------------------
:data:`ATTRITION_BOUNDARIES` is WWC Standards Handbook v4.1, Table II.1 ("highest differential
attrition rate for a sample to maintain low attrition, by overall attrition rate, under
'optimistic' and 'cautious' assumptions"), one row per integer overall attrition 0..65 %, as
encoded in the R package baselinr (https://github.com/zl1212-ship-it/baselinr), file
``R/attrition_boundary.R``, function ``.wwc_attrition_table()`` (stored version at commit
c4018eb1c5a5d84fdfe1e8c4f680ade8bcd296ec). The handbook PDF itself was not read.

Checks made on the values:

- every row listed in ``shared/reference/evaluation-methods.md`` (overall 0, 5, 10, 13, 20, 30,
  40, 50, 55, 57, 60, 65 %, both boundaries) is reproduced exactly (``tests/test_attrition.py``);
- the cautious column ends at 57 % (0.0 pp); from 58 % on every differential is high (NaN here);
- WWCr (https://github.com/HaiwenChu/RWWC-v.4-Group-Designs, file ``R/Group Designs``, citing
  v4.0 Table II.1, p. 12) has the same cautious column for 0..57 %. Its optimistic column
  carries six values of 10.9 (overall 8..13 %) where baselinr has five (8..12 %), so from 13 %
  on it gives baselinr's value of the row before (13 % -> 10.9, baselinr's 12 % value, instead
  of 10.8: more lenient) and it stops at 57 %. baselinr's column is the one that reproduces
  evaluation-methods.md and covers 0..65 %; WWCr's looks like a duplicated entry. Still to be
  checked against the handbook PDF.

Conventions of the verdict
--------------------------
Neither source quotes a WWC rounding rule, so the project rule is used:

- overall attrition selects the row of the integer it rounds to, half up (12.5 % -> row 13);
  baselinr also rounds (R's ``round``, half to even at exactly .5), WWCr floors;
- differential attrition is rounded half up to one decimal and is low when it is ``<=`` the
  boundary (exactly on the boundary is low). baselinr compares the unrounded value with
  ``<=`` and WWCr with ``<``, so a differential up to 0.05 pp above a boundary is low here
  and high in baselinr;
- rounding and the comparison allow 1e-9 of floating-point slack, so that for example
  30.000000000000004 % is 30 %;
- overall attrition above 65 % (after rounding) is high on both boundaries; cautious 58 % or
  more is high whatever the differential.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Literal, get_args

import numpy as np
import pandas as pd

from outcomes.errors import OutcomesError

Boundary = Literal["cautious", "optimistic"]
Verdict = Literal["low", "high", "unknown"]

GROUPS = ("participant", "comparison")
#: The outcome name of the rows that measure the survey response itself.
RESPONDED = "(responded)"
#: Floating-point slack in rounding and in the comparison with the boundary.
TOLERANCE = 1e-9

_CAUTIOUS = [
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3,  # 0-9
    6.3, 6.2, 6.2, 6.1, 6.0, 5.9, 5.9, 5.8, 5.7, 5.5,  # 10-19
    5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3,  # 20-29
    4.1, 4.0, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1, 2.9, 2.8,  # 30-39
    2.6, 2.5, 2.3, 2.1, 2.0, 1.8, 1.6, 1.5, 1.3, 1.2,  # 40-49
    1.0, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.0,  # 50-57
]  # fmt: skip
_OPTIMISTIC = [
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9,  # 0-9
    10.9, 10.9, 10.9, 10.8, 10.8, 10.7, 10.6, 10.5, 10.3, 10.2,  # 10-19
    10.0, 9.9, 9.7, 9.5, 9.4, 9.2, 9.0, 8.8, 8.6, 8.4,  # 20-29
    8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3,  # 30-39
    6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9,  # 40-49
    3.7, 3.5, 3.2, 3.0, 2.8, 2.6, 2.3, 2.1, 1.9, 1.6,  # 50-59
    1.4, 1.1, 0.9, 0.7, 0.5, 0.3,  # 60-65
]  # fmt: skip

#: WWC v4.1 Table II.1: the highest differential attrition (percentage points) still counted as
#: low, by integer overall attrition (%); NaN where every differential is high (cautious >= 58).
ATTRITION_BOUNDARIES = pd.DataFrame(
    {
        "overall_pct": np.arange(66, dtype="int64"),
        "cautious_pct": np.array(_CAUTIOUS + [np.nan] * (66 - len(_CAUTIOUS)), dtype="float64"),
        "optimistic_pct": np.array(_OPTIMISTIC, dtype="float64"),
    }
)

ATTRITION_COLUMNS = [
    "wave", "outcome", "group", "n_assigned", "n_present", "n_with_outcome", "n_returned",
    "n_late_entrants", "attrition_pct", "overall_attrition_pct", "differential_attrition_pct",
    "verdict_cautious", "verdict_optimistic",
]  # fmt: skip
_DTYPES = {
    "outcome": str, "group": str, "n_assigned": "int64", "n_present": "int64",
    "n_with_outcome": "int64", "n_returned": "int64", "n_late_entrants": "Int64",
    "attrition_pct": "float64", "overall_attrition_pct": "float64",
    "differential_attrition_pct": "float64", "verdict_cautious": str, "verdict_optimistic": str,
}  # fmt: skip

_BOUNDARY_COLUMN = {"cautious": "cautious_pct", "optimistic": "optimistic_pct"}
_BOUNDARY_BY_ROW = {
    name: dict(zip(ATTRITION_BOUNDARIES["overall_pct"], ATTRITION_BOUNDARIES[col], strict=True))
    for name, col in _BOUNDARY_COLUMN.items()
}


# --- the verdict -------------------------------------------------------------------------------


def _round_half_up(value: float, decimals: int) -> float:
    """``value`` (>= 0) rounded half up to ``decimals``, with :data:`TOLERANCE` of slack."""
    scale = 10**decimals
    return math.floor(value * scale + 0.5 + TOLERANCE) / scale


def _percentage(value, name: str) -> float:
    """``value`` as a float in [0, 100], NaN when missing; OutcomesError otherwise."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return math.nan
    if isinstance(value, bool) or not isinstance(value, Real):
        raise OutcomesError(
            f"{name} must be a number of percent", column=name,
            expected="a number between 0 and 100", found=type(value).__name__,
        )  # fmt: skip
    value = float(value)
    if not -TOLERANCE <= value <= 100 + TOLERANCE:
        raise OutcomesError(
            f"{name} is not a percentage", column=name,
            expected="a number between 0 and 100 (percent, not a proportion)", found=repr(value),
        )  # fmt: skip
    return max(value, 0.0)


def wwc_attrition_verdict(overall_pct: float, differential_pct: float, boundary: Boundary) -> str:
    """Classify attrition as low or high under the WWC attrition standard (v4.1 Table II.1).

    Parameters
    ----------
    overall_pct : float
        Overall attrition, percent (0-100) of the assigned sample without outcome data.
    differential_pct : float
        Absolute difference between the participant and comparison attrition rates, in
        percentage points (0-100).
    boundary : {"cautious", "optimistic"}
        ``"cautious"`` when the intervention could plausibly affect attrition, ``"optimistic"``
        otherwise. The choice belongs to the review protocol, not to the data.

    Returns
    -------
    str
        ``"low"`` or ``"high"``; ``"unknown"`` when either rate is missing (NaN or None).

    Raises
    ------
    OutcomesError
        For an unknown ``boundary`` or a rate that is not a number in [0, 100].

    Notes
    -----
    The row of :data:`ATTRITION_BOUNDARIES` is the overall rate rounded half up to a whole
    percent; the differential, rounded half up to one decimal, is low when ``<=`` that row's
    boundary (exactly on the boundary is low). Overall attrition above 65 % is high on both
    boundaries, and cautious overall attrition of 58 % or more is high whatever the
    differential. See the module docstring for the source of the table.

    Examples
    --------
    >>> wwc_attrition_verdict(30, 6.0, "cautious")
    'high'
    >>> wwc_attrition_verdict(30, 6.0, "optimistic")
    'low'
    """
    if not isinstance(boundary, str) or boundary not in _BOUNDARY_COLUMN:
        raise OutcomesError(
            f"unknown attrition boundary {boundary!r}", column="boundary",
            expected="one of " + ", ".join(map(repr, get_args(Boundary))), found=repr(boundary),
        )  # fmt: skip
    overall = _percentage(overall_pct, "overall_pct")
    differential = _percentage(differential_pct, "differential_pct")
    if math.isnan(overall) or math.isnan(differential):
        return "unknown"
    limit = _BOUNDARY_BY_ROW[boundary].get(int(_round_half_up(overall, 0)), math.nan)
    if math.isnan(limit):
        return "high"
    return "low" if _round_half_up(differential, 1) <= limit + TOLERANCE else "high"


# --- the table ---------------------------------------------------------------------------------


def _check_assigned(assigned) -> pd.Series:
    if not isinstance(assigned, pd.Series):
        raise OutcomesError(
            "assigned must be a Series of groups indexed by respondent_id", column="assigned",
            expected="pandas Series", found=type(assigned).__name__,
        )  # fmt: skip
    missing = int(assigned.isna().sum())
    if missing:
        raise OutcomesError(
            f"{missing} assigned respondents have no group", column="group",
            expected="'participant' or 'comparison' for every respondent",
            found=f"{missing} missing",
        )  # fmt: skip
    labels = assigned.astype(object)
    unknown = sorted({str(g) for g in labels.unique()} - set(GROUPS))
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise OutcomesError(
            "assigned holds groups other than participant and comparison", column="group",
            expected="'participant' or 'comparison'", found=shown,
        )  # fmt: skip
    if assigned.index.hasnans:
        raise OutcomesError(
            f"{int(assigned.index.isna().sum())} assigned respondents have no respondent_id",
            column="respondent_id", expected="an id for every assigned respondent",
        )  # fmt: skip
    duplicated = int(assigned.index.duplicated().sum())
    if duplicated:
        raise OutcomesError(
            f"{duplicated} respondent_id values are assigned more than once",
            column="respondent_id", expected="each respondent once, with one group",
            found=f"{duplicated} repeated ids",
        )  # fmt: skip
    return labels


def _check_frame(frame, columns: Sequence[str], name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise OutcomesError(
            f"{name} must be a DataFrame", column=name,
            expected=f"a DataFrame with columns {', '.join(columns)}", found=type(frame).__name__,
        )  # fmt: skip
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise OutcomesError(
            f"{name} lacks column {absent[0]!r}", column=absent[0],
            expected=f"columns {', '.join(columns)}",
            found="columns " + ", ".join(map(str, frame.columns)),
        )  # fmt: skip
    return frame.loc[frame[list(columns)].notna().all(axis=1), list(columns)]


def _check_waves(waves) -> list:
    if isinstance(waves, str) or not isinstance(waves, Sequence):
        raise OutcomesError(
            "waves must be a list of wave names", column="waves",
            expected="a list such as ['spring', 'fall']", found=type(waves).__name__,
        )  # fmt: skip
    waves = list(waves)
    repeated = sorted({str(w) for w in waves if waves.count(w) > 1})
    if repeated:
        raise OutcomesError(
            "waves lists a wave more than once", column="waves",
            expected="each wave once, in time order", found=", ".join(map(repr, repeated)),
        )  # fmt: skip
    return waves


def _frame(rows: list[dict]) -> pd.DataFrame:
    """The table with its column types; wave names are kept as given (``str`` when empty)."""
    dtypes = _DTYPES if rows else {"wave": str, **_DTYPES}
    return pd.DataFrame(rows, columns=ATTRITION_COLUMNS).astype(dtypes)


def _pct_lost(n_with: int, n_assigned: int) -> float:
    return 100.0 * (1.0 - n_with / n_assigned) if n_assigned else math.nan


def attrition_table(
    assigned: pd.Series, present: pd.DataFrame, observed: pd.DataFrame, waves: list[str]
) -> pd.DataFrame:
    """Attrition of the assignment-wave cohort at each later wave, per outcome and group.

    Parameters
    ----------
    assigned : Series
        Indexed by ``respondent_id``; the group at the assignment wave, ``"participant"`` or
        ``"comparison"``. This cohort is the denominator at every wave.
    present : DataFrame
        Columns ``respondent_id``, ``wave``: one row per respondent who responded at a wave
        (any wave; rows of waves not in ``waves`` are ignored, repeated rows count once).
    observed : DataFrame
        Columns ``respondent_id``, ``wave``, ``outcome``: one row per respondent x wave x
        outcome whose value is non-missing (other columns are ignored).
    waves : list of str
        The later waves, in time order; each gets rows.

    Returns
    -------
    DataFrame
        One row per wave x outcome x group, ordered by ``waves``, then outcome (first
        ``"(responded)"``, then the outcomes of ``observed`` in order of first appearance),
        then group (``participant``, ``comparison``, ``overall``). Columns:

        - ``wave``, ``outcome``, ``group``: ``overall`` is both groups together.
          ``outcome == "(responded)"`` rows measure the survey response itself (from
          ``present``); the other outcomes count a respondent only if present at the wave
          *and* the outcome observed.
        - ``n_assigned``: the group's size at the assignment wave.
        - ``n_present``: assigned and responded at this wave.
        - ``n_with_outcome``: assigned, responded and the outcome observed (equal to
          ``n_present`` on ``(responded)`` rows). An ``observed`` row without a matching
          ``present`` row is not counted.
        - ``n_returned``: assigned and present at this wave after missing at least one earlier
          wave of ``waves`` (by response, the same on every outcome of the wave; 0 at the
          first wave). Returners count in ``n_present``: they are not assumed away.
        - ``n_late_entrants``: respondents present at this wave who are not in ``assigned``;
          on the ``overall`` row only (pandas ``Int64``, ``<NA>`` on the group rows, since
          late entrants have no assigned group). They count in no other column.
        - ``attrition_pct``: ``100 * (1 - n_with_outcome / n_assigned)``; NaN when
          ``n_assigned`` is 0.
        - ``overall_attrition_pct``: the overall row's ``attrition_pct``, repeated on every
          row of the wave x outcome.
        - ``differential_attrition_pct``: ``|participant - comparison|`` attrition, percentage
          points, repeated; NaN when either group is empty.
        - ``verdict_cautious``, ``verdict_optimistic``: :func:`wwc_attrition_verdict` of the
          overall and differential rates (``"low"``, ``"high"``, ``"unknown"`` when a rate is
          NaN), repeated.

        Empty ``waves`` gives an empty table with these columns.

    Raises
    ------
    OutcomesError
        When ``assigned`` holds groups other than participant/comparison, a missing group or
        repeated ids; a frame lacks a column; ``waves`` repeats a wave; an outcome is named
        ``"(responded)"``. Messages give counts, never respondent ids.

    Notes
    -----
    Rows of ``present`` or ``observed`` with a missing ``respondent_id``, ``wave`` or
    ``outcome`` are dropped. Ids are matched by equality, so ``assigned``'s index and the
    ``respondent_id`` columns must share a type (``"7"`` is not ``7``).
    """
    waves = _check_waves(waves)
    groups = _check_assigned(assigned)
    present = _check_frame(present, ("respondent_id", "wave"), "present")
    observed = _check_frame(observed, ("respondent_id", "wave", "outcome"), "observed")
    outcomes = list(dict.fromkeys(observed["outcome"].tolist()))
    if RESPONDED in outcomes:
        raise OutcomesError(
            f"observed uses the reserved outcome name {RESPONDED!r}", column="outcome",
            expected="outcome names other than '(responded)'", found=repr(RESPONDED),
        )  # fmt: skip
    if not waves:
        return _frame([])

    ids = groups.index
    members = {g: (groups == g).to_numpy() for g in GROUPS}
    members["overall"] = np.ones(len(ids), dtype=bool)
    present_ids = {w: pd.unique(present.loc[present["wave"] == w, "respondent_id"]) for w in waves}
    in_waves = observed[observed["wave"].isin(waves)]
    observed_ids = {
        key: frame["respondent_id"].to_numpy()
        for key, frame in in_waves.groupby(["wave", "outcome"], sort=False)
    }

    rows = []
    missed_before = np.zeros(len(ids), dtype=bool)
    for wave in waves:
        here = ids.isin(present_ids[wave])
        returned = here & missed_before
        n_late = int((~pd.Index(present_ids[wave]).isin(ids)).sum())
        measures = [(RESPONDED, here)]
        for outcome in outcomes:
            seen = observed_ids.get((wave, outcome), np.array([], dtype=object))
            measures.append((outcome, here & ids.isin(seen)))
        for outcome, has in measures:
            block = {}
            for group, member in members.items():
                n_assigned = int(member.sum())
                n_with = int((member & has).sum())
                block[group] = {
                    "wave": wave,
                    "outcome": outcome,
                    "group": group,
                    "n_assigned": n_assigned,
                    "n_present": int((member & here).sum()),
                    "n_with_outcome": n_with,
                    "n_returned": int((member & returned).sum()),
                    "n_late_entrants": n_late if group == "overall" else pd.NA,
                    "attrition_pct": _pct_lost(n_with, n_assigned),
                }
            overall = block["overall"]["attrition_pct"]
            differential = abs(
                block["participant"]["attrition_pct"] - block["comparison"]["attrition_pct"]
            )
            shared = {
                "overall_attrition_pct": overall,
                "differential_attrition_pct": differential,
                "verdict_cautious": wwc_attrition_verdict(overall, differential, "cautious"),
                "verdict_optimistic": wwc_attrition_verdict(overall, differential, "optimistic"),
            }
            rows.extend(row | shared for row in block.values())
        missed_before |= ~here
    return _frame(rows)
