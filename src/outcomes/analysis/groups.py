"""Who is in which group at each wave, decided in one place.

The participant flow, the attrition table and every estimate take the group of a student from
:func:`group_membership`, so the three can never disagree.
"""

from __future__ import annotations

import pandas as pd

from outcomes.options import GroupFrom, check_option

MEMBERSHIP_COLUMNS = [
    "respondent_id", "wave", "group_recorded", "group_assigned", "group", "in_cohort",
    "late_entrant", "switched",
]  # fmt: skip


def group_membership(
    scores: pd.DataFrame,
    waves: tuple[str, ...] | list[str],
    *,
    assignment_wave: str,
    group_from: GroupFrom = "assignment",
) -> pd.DataFrame:
    """The group of every respondent at every wave they answered.

    Parameters
    ----------
    scores : DataFrame
        One row per respondent x wave, with ``respondent_id``, ``wave`` and ``group`` (the
        group recorded in that wave's export: ``participant`` / ``comparison``).
    waves : sequence of str
        The cohort's waves in time order.
    assignment_wave : str
        The wave at which groups are fixed.
    group_from : {"assignment", "each_wave"}
        ``assignment`` (intention to treat): a student keeps the group recorded at the
        assignment wave at every wave, and students absent from the assignment wave are not
        analysed. ``each_wave``: the group recorded at each wave; students first seen after
        the assignment wave (late entrants) are analysed at their waves.

    Returns
    -------
    DataFrame
        One row per row of ``scores``, in wave then respondent order, with columns
        ``respondent_id``, ``wave``, ``group_recorded`` (the export's group at that wave),
        ``group_assigned`` (the group at the assignment wave; missing for students who did
        not answer it), ``group`` (the group the student is analysed in at that wave, by
        ``group_from``; missing when the student is not analysed there), ``in_cohort``
        (answered the assignment wave: the denominator of attrition), ``late_entrant`` (not
        in the cohort, answering a wave after the assignment wave) and ``switched`` (in the
        cohort, with a recorded group at this wave that differs from the assigned one).
        Switchers stay in the cohort: they are never counted as lost to follow-up.

    Examples
    --------
    >>> scores = pd.DataFrame({"respondent_id": ["a", "b", "a", "b", "c"],
    ...                        "wave": ["w1", "w1", "w2", "w2", "w2"],
    ...                        "group": ["participant", "comparison", "comparison",
    ...                                  "comparison", "participant"]})
    >>> m = group_membership(scores, ["w1", "w2"], assignment_wave="w1")
    >>> m[["respondent_id", "wave", "group", "late_entrant", "switched"]].values.tolist()
    [['a', 'w1', 'participant', False, False], ['b', 'w1', 'comparison', False, False], \
['a', 'w2', 'participant', False, True], ['b', 'w2', 'comparison', False, False], \
['c', 'w2', None, True, False]]
    """
    check_option(group_from, GroupFrom, "group_from")
    waves = list(waves)
    if assignment_wave not in waves:
        raise ValueError(f"assignment_wave {assignment_wave!r} is not one of {waves}")
    order = {wave: i for i, wave in enumerate(waves)}
    frame = scores[["respondent_id", "wave", "group"]].rename(columns={"group": "group_recorded"})
    frame = frame[frame["wave"].isin(order)].copy()
    assigned = frame.loc[frame["wave"] == assignment_wave].drop_duplicates("respondent_id")
    assigned = assigned.set_index("respondent_id")["group_recorded"]
    frame["group_assigned"] = frame["respondent_id"].map(assigned)
    frame["in_cohort"] = frame["respondent_id"].isin(assigned.index)
    after = frame["wave"].map(order) > order[assignment_wave]
    frame["late_entrant"] = ~frame["in_cohort"] & after
    recorded = frame["group_recorded"].notna()  # a later wave may leave the group blank
    frame["switched"] = (
        frame["in_cohort"] & recorded & (frame["group_recorded"] != frame["group_assigned"])
    )
    if group_from == "assignment":
        group = frame["group_assigned"]
    else:
        # A student not in the cohort is analysed only at the assignment wave and after it.
        keep = frame["in_cohort"] | after
        group = frame["group_recorded"].where(keep)
    frame["group"] = group.astype(object).where(group.notna(), None)
    frame["group_assigned"] = (
        frame["group_assigned"].astype(object).where(frame["group_assigned"].notna(), None)
    )
    frame = frame.sort_values(
        ["wave", "respondent_id"], key=lambda s: s.map(order) if s.name == "wave" else s
    )
    return frame[MEMBERSHIP_COLUMNS].reset_index(drop=True)
