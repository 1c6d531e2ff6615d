"""The result tables of one cohort, from its scores: estimates at every wave, descriptives,
participant flow, attrition, clustering and sensitivity. No file is read or written here
(:mod:`outcomes.analysis.stage` does that)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.analysis.attrition import attrition_table
from outcomes.analysis.clustering import icc_oneway
from outcomes.analysis.design import design_diagnostics
from outcomes.analysis.engine import (
    ROW_COLUMNS,
    EstimationPlan,
    OutcomeSpec,
    adjust_families,
    estimate_outcome,
)
from outcomes.analysis.panel import analysis_panel, cohort_membership
from outcomes.config import Cohort, Settings
from outcomes.ingest.ledger import KEPT

#: The columns of ``estimates.csv`` (README.md, "Outputs").
ESTIMATE_COLUMNS = ["cohort", "wave", *ROW_COLUMNS]
GROUPS = ("participant", "comparison")


def estimation_plan(cohort: Cohort, settings: Settings) -> EstimationPlan:
    """The engine's plan for a cohort: its ``plan:`` block, the cluster column and alpha."""
    plan = cohort.plan
    return EstimationPlan(
        methods=plan.methods,
        estimand=plan.estimand,
        covariates=plan.covariates,
        se=plan.se,
        cluster="cluster" if cohort.cluster else None,
        alpha=settings.alpha,
        caliper=plan.caliper,
        replace=plan.propensity.get("replace", False),
        trim=plan.propensity.get("trim", "none"),
        design=plan.design,
    )


def outcome_specs(cohort: Cohort) -> list[OutcomeSpec]:
    """Every outcome of the cohort, each followed by its caseness indicator when it sets
    ``case_at_least`` (named ``{outcome}_case``, a 0/1 outcome)."""
    with_baseline = cohort.plan.baseline_wave is not None
    specs = []
    for outcome in cohort.outcomes:
        common = {
            "domain": outcome.domain,
            "instrument": outcome.instrument.id,
            "direction": outcome.instrument.direction,
            "self_reported": outcome.instrument.kind == "items",
        }
        specs.append(
            OutcomeSpec(outcome.name, label=outcome.label, **common,
                        baseline=f"{outcome.name}_baseline" if with_baseline else None)
        )  # fmt: skip
        if outcome.case_at_least is not None:
            name = f"{outcome.name}_case"
            specs.append(
                OutcomeSpec(name, label=outcome.case_label, binary=True, **common,
                            baseline=f"{name}_baseline" if with_baseline else None)
            )  # fmt: skip
    return specs


def with_caseness(panel: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """``panel`` with the 0/1 caseness indicators (``score >= case_at_least``; missing stays
    missing) of every outcome that sets ``case_at_least``, and of its baseline score."""
    panel = panel.copy()
    for outcome in cohort.outcomes:
        if outcome.case_at_least is None:
            continue
        for suffix in ("", "_baseline"):
            column = f"{outcome.name}{suffix}"
            if column in panel:
                values = panel[column]
                case = (values >= outcome.case_at_least).astype(float)
                panel[f"{outcome.name}_case{suffix}"] = case.where(values.notna())
    return panel


def estimates(
    scores: pd.DataFrame,
    cohort: Cohort,
    settings: Settings,
    membership: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per outcome x wave x method.

    Every wave of ``plan.estimate_waves`` gets a row for each method of the plan, on the
    panel of that wave (:func:`outcomes.analysis.panel.analysis_panel`: the students
    analysed there, in their analysis group, beside their baseline scores). With a baseline
    wave and ``unadjusted`` in the plan, the baseline wave gets an ``unadjusted`` row too:
    the gap that self-selection (or chance) created before the program. Columns:
    :data:`ESTIMATE_COLUMNS` (README.md, "Outputs").

    Notes
    -----
    ``hedges_g`` is the estimate over the unadjusted pooled SD of the outcome in the same
    sample, times ``omega = 1 - 3/(4N - 9)`` (WWC). ``p_adjusted`` adjusts across the
    outcomes of one family (``settings.multiplicity``): one wave, method, outcome type and -
    by default - outcome domain (``settings.multiplicity_family``).
    """
    plan = cohort.plan
    membership = cohort_membership(scores, cohort) if membership is None else membership
    engine_plan = estimation_plan(cohort, settings)
    specs = outcome_specs(cohort)
    waves = list(plan.estimate_waves)
    frames = []
    if plan.baseline_wave is not None and "unadjusted" in plan.methods:
        panel = with_caseness(analysis_panel(scores, cohort, plan.baseline_wave, membership),
                              cohort)  # fmt: skip
        gap_plan = EstimationPlan(**{**engine_plan.__dict__, "methods": ("unadjusted",)})
        for spec in specs:
            row = estimate_outcome(panel, _without_baseline(spec), gap_plan)
            frames.append(row.assign(wave=plan.baseline_wave))
    for wave in waves:
        panel = with_caseness(analysis_panel(scores, cohort, wave, membership), cohort)
        for spec in specs:
            frames.append(estimate_outcome(panel, spec, engine_plan).assign(wave=wave))
    table = pd.concat(frames, ignore_index=True).assign(cohort=cohort.name)
    family = ["wave", "method", "outcome_type"]
    family += ["domain"] if settings.multiplicity_family == "domain" else []
    table = adjust_families(table, settings.multiplicity, family)
    order = {
        "outcome": {s.name: i for i, s in enumerate(specs)},
        "wave": {w: i for i, w in enumerate(cohort.waves)},
        "method": {m: i for i, m in enumerate(plan.methods)},
    }
    table = table.sort_values(
        ["outcome", "wave", "method"], key=lambda s: s.map(order[s.name]), kind="stable"
    )
    return table[ESTIMATE_COLUMNS].reset_index(drop=True)


def _without_baseline(spec: OutcomeSpec) -> OutcomeSpec:
    return OutcomeSpec(**{**spec.__dict__, "baseline": None})


def descriptives(
    scores: pd.DataFrame, cohort: Cohort, membership: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Mean, SD and n of each outcome by wave and analysis group.

    Returns
    -------
    DataFrame
        Columns ``outcome``, ``wave``, ``group`` (the analysis group of
        :func:`outcomes.analysis.groups.group_membership`), ``n`` (non-missing scores),
        ``mean``, ``sd`` (ddof = 1), ``median``.
    """
    membership = cohort_membership(scores, cohort) if membership is None else membership
    grouped = _analysis_groups(scores, membership)
    rows = []
    for outcome in cohort.outcomes:
        for wave in cohort.waves:
            for group in GROUPS:
                values = grouped.loc[
                    (grouped["wave"] == wave) & (grouped["analysis_group"] == group), outcome.name
                ].dropna()
                rows.append(
                    {
                        "outcome": outcome.name,
                        "wave": wave,
                        "group": group,
                        "n": len(values),
                        "mean": values.mean() if len(values) else np.nan,
                        "sd": values.std(ddof=1) if len(values) > 1 else np.nan,
                        "median": values.median() if len(values) else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=["outcome", "wave", "group", "n", "mean", "sd", "median"])


def _analysis_groups(scores: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with the analysis group of each respondent x wave as ``analysis_group``."""
    key = membership.set_index(["respondent_id", "wave"])["group"]
    index = pd.MultiIndex.from_frame(scores[["respondent_id", "wave"]])
    return scores.assign(analysis_group=key.reindex(index).to_numpy())


def flow(
    ledger: pd.DataFrame,
    scores: pd.DataFrame,
    estimates_table: pd.DataFrame,
    cohort: Cohort,
    membership: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Participant flow: the counts behind each step from responses received to analysis.

    Returns
    -------
    DataFrame
        Columns ``step``, ``wave``, ``group`` (``all`` before the group is known), ``n``.
        At every wave: ``received``; ``excluded:<reason>``; ``kept`` (by the group recorded
        at that wave, else the assigned one). At every wave after the assignment wave, by
        the group at the assignment wave: ``followed_up`` (in the assignment-wave cohort
        and answered this wave), ``lost_to_followup`` (in the cohort, did not answer this wave),
        ``returned`` (answered this wave after missing an earlier one), ``switched_group``
        (answered with a recorded group other than the assigned one; they are followed up,
        not lost), and ``late_entrants`` (answered, not in the cohort; by recorded group).
        At every estimate wave: ``analysed:<outcome>`` (the headline method's sample).
    """
    plan = cohort.plan
    membership = cohort_membership(scores, cohort) if membership is None else membership
    rows = []

    def add(step, wave, group, n):
        rows.append({"step": step, "wave": wave, "group": group, "n": int(n)})

    for wave in cohort.waves:
        part = ledger[ledger["wave"] == wave]
        add("received", wave, "all", len(part))
        reasons = part.loc[part["disposition"] != KEPT, "disposition"].value_counts()
        for reason, n in reasons.sort_index().items():
            add(f"excluded:{reason}", wave, "all", n)
        kept = membership[membership["wave"] == wave]
        # By the group recorded at this wave, else (a wave that leaves it blank) the assigned one.
        group_kept = kept["group_recorded"].fillna(kept["group_assigned"])
        for group in GROUPS:
            add("kept", wave, group, (group_kept == group).sum())
    cohort_ids = membership.loc[membership["wave"] == plan.assignment_wave]
    assigned = cohort_ids.set_index("respondent_id")["group_assigned"]
    later = list(cohort.waves[cohort.waves.index(plan.assignment_wave) + 1 :])
    seen_all = set(assigned.index)
    for wave in later:
        here = membership[membership["wave"] == wave]
        present = set(here.loc[here["in_cohort"], "respondent_id"])
        for group in GROUPS:
            ids = set(assigned.index[assigned == group])
            add("followed_up", wave, group, len(ids & present))
            add("lost_to_followup", wave, group, len(ids - present))
            add("returned", wave, group, len(ids & present - seen_all))
            switched = here[here["switched"] & (here["group_assigned"] == group)]
            add("switched_group", wave, group, len(switched))
            late = here[here["late_entrant"] & (here["group_recorded"] == group)]
            add("late_entrants", wave, group, len(late))
        seen_all &= present
    headline = estimates_table[estimates_table["method"] == plan.headline_method]
    for wave in plan.estimate_waves:
        for row in headline[headline["wave"] == wave].itertuples():
            add(f"analysed:{row.outcome}", wave, "participant", row.n_participants)
            add(f"analysed:{row.outcome}", wave, "comparison", row.n_comparison)
    return pd.DataFrame(rows, columns=["step", "wave", "group", "n"])


def attrition(
    scores: pd.DataFrame, cohort: Cohort, membership: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Attrition from the assignment-wave cohort at each later wave, by group, with the WWC
    boundary verdicts (:func:`outcomes.analysis.attrition.attrition_table`)."""
    plan = cohort.plan
    membership = cohort_membership(scores, cohort) if membership is None else membership
    cohort_rows = membership[membership["wave"] == plan.assignment_wave]
    assigned = cohort_rows.set_index("respondent_id")["group_assigned"]
    later = list(cohort.waves[cohort.waves.index(plan.assignment_wave) + 1 :])
    present = scores[["respondent_id", "wave"]]
    observed = [
        scores.loc[scores[o.name].notna(), ["respondent_id", "wave"]].assign(outcome=o.name)
        for o in cohort.outcomes
    ]
    return attrition_table(assigned, present, pd.concat(observed, ignore_index=True), later)


ICC_COLUMNS = ["outcome", "wave", "n", "n_clusters", "mean_cluster_size", "icc"]


def icc_table(scores: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """The intraclass correlation of each outcome within clusters at each wave.

    Returns
    -------
    DataFrame
        Columns ``outcome``, ``wave``, ``n`` (scores), ``n_clusters``,
        ``mean_cluster_size``, ``icc`` (one-way ANOVA estimator,
        :func:`outcomes.analysis.clustering.icc_oneway`). Empty without a cluster column.
    """
    if not cohort.cluster:
        return pd.DataFrame(columns=ICC_COLUMNS)
    rows = []
    for outcome in cohort.outcomes:
        for wave in cohort.waves:
            part = scores[(scores["wave"] == wave) & scores["cluster"].notna()]
            codes = pd.factorize(part["cluster"])[0]
            icc = icc_oneway(part[outcome.name].to_numpy(float), codes)
            keys = ("n", "n_clusters", "mean_cluster_size", "icc")
            rows.append({"outcome": outcome.name, "wave": wave, **{k: icc[k] for k in keys}})
    return pd.DataFrame(rows, columns=ICC_COLUMNS)


def sensitivity_table(estimates_table: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """E-values and plausibility warnings of the primary-wave estimates: columns
    ``outcome``, ``method``, ``estimand``, ``hedges_g``, ``g_ci_low``, ``g_ci_high``,
    ``evalue``, ``evalue_ci``, ``plausibility_warning``.

    The E-value is the minimum strength of association (risk-ratio scale) that an
    unmeasured confounder would need with both joining and the outcome to explain the
    estimate away; ``evalue_ci`` the same for the CI limit nearest the null (1 when the CI
    includes no effect). Computed from g with RR = exp(0.91 g) (VanderWeele & Ding 2017).
    """
    primary = estimates_table[estimates_table["wave"] == cohort.plan.primary_wave]
    columns = ["outcome", "method", "estimand", "hedges_g", "g_ci_low", "g_ci_high",
               "evalue", "evalue_ci", "plausibility_warning"]  # fmt: skip
    return primary[columns].reset_index(drop=True)


def analyze(
    scores: pd.DataFrame,
    ledger: pd.DataFrame,
    cohort: Cohort,
    settings: Settings,
    scored: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """All result tables of a cohort, by name (the files of ``reports/<cohort>/tables/``).

    ``scored`` holds the score stage's other tables (``reliability``, ``items``, ``safety``);
    they are passed through, reliability with a ``below_threshold`` flag
    (``alpha < settings.min_alpha``).
    """
    scored = dict(scored or {})
    membership = cohort_membership(scores, cohort)
    estimates_table = estimates(scores, cohort, settings, membership)
    primary = analysis_panel(scores, cohort, cohort.plan.primary_wave, membership)
    tables = {
        "estimates": estimates_table,
        "descriptives": descriptives(scores, cohort, membership),
        "flow": flow(ledger, scores, estimates_table, cohort, membership),
        "attrition": attrition(scores, cohort, membership),
        "clusters": icc_table(scores, cohort),
        **design_diagnostics(primary, cohort),
        "sensitivity": sensitivity_table(estimates_table, cohort),
    }
    if "reliability" in scored:
        reliability = scored.pop("reliability").copy()
        reliability["below_threshold"] = reliability["alpha"] < settings.min_alpha
        tables["reliability"] = reliability
    return tables | scored
