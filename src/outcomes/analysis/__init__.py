"""The analyze stage: scores -> tidy result tables (estimates, descriptives, flow)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from outcomes.analysis import causal
from outcomes.analysis.design import design_diagnostics
from outcomes.analysis.effect_sizes import cox_index, hedges_g, improvement_index, pooled_sd
from outcomes.analysis.estimators import ancova, unadjusted
from outcomes.analysis.multiplicity import adjust_pvalues
from outcomes.analysis.panel import analysis_panel
from outcomes.analysis.propensity import fit_propensity, trim_to_common_support
from outcomes.analysis.sensitivity import evalue_smd, plausibility_warning
from outcomes.config import Cohort, Settings
from outcomes.ingest.ledger import KEPT
from outcomes.tables import write_csv, write_parquet

log = logging.getLogger(__name__)

__all__ = ["analysis_panel", "analyze", "analyze_cohort", "descriptives", "estimates", "flow"]

ESTIMATE_COLUMNS = [
    "cohort", "outcome", "label", "domain", "instrument", "wave", "method", "estimand",
    "estimate", "std_error", "df", "ci_low", "ci_high", "p_value", "p_adjusted",
    "p_adjust_method", "hedges_g", "g_se", "g_ci_low", "g_ci_high", "improvement_index",
    "n_participants", "n_comparison", "mean_participants", "mean_comparison", "sd_pooled",
    "direction", "favours", "se_type", "covariates", "evalue", "evalue_ci",
    "plausibility_warning", "outcome_type", "odds_ratio", "risk_ratio", "cox_index",
]  # fmt: skip


def estimates(scores: pd.DataFrame, cohort: Cohort, settings: Settings) -> pd.DataFrame:
    """One row per outcome x wave x method.

    ``unadjusted`` is computed at the baseline wave (the gap that self-selection created) and
    at the primary wave; ``ancova`` at the primary wave, adjusting for the outcome's own
    baseline score and ``plan.covariates``. Columns are documented in README.md ("Outputs").

    Notes
    -----
    ``hedges_g`` is the estimate over the unadjusted pooled SD of the outcome in the same
    sample, times ``omega = 1 - 3/(4N - 9)`` (WWC). ``improvement_index`` uses g oriented so
    that positive means benefit. ``p_adjusted`` adjusts across the outcomes of one family
    (``settings.multiplicity``): one wave, method and - by default - outcome domain
    (``settings.multiplicity_family``). ``favours`` is ``participants`` or ``comparison``
    when the CI excludes zero in that direction of benefit, else ``unclear``.
    """
    plan, alpha = cohort.plan, settings.alpha
    panel = analysis_panel(scores, cohort)
    base = scores[scores["wave"] == plan.baseline_wave].copy()
    rows = []
    for outcome, name, binary in _outcome_variants(cohort):
        if binary:  # a caseness indicator: score >= case_at_least, missing stays missing
            for frame, column in ((panel, outcome.name), (panel, f"{outcome.name}_baseline"),
                                  (base, outcome.name)):  # fmt: skip
                target = name if column == outcome.name else f"{name}_baseline"
                frame[target] = (frame[column] >= outcome.case_at_least).astype(float)
                frame.loc[frame[column].isna(), target] = np.nan
        fits = []
        baseline = f"{name}_baseline"
        terms = [baseline, *(t for t in plan.covariates if t != baseline)]
        for method in plan.methods:
            if method == "unadjusted":
                fits.append((plan.baseline_wave, method, unadjusted(base, name, alpha=alpha), ""))
                fits.append((plan.primary_wave, method, unadjusted(panel, name, alpha=alpha), ""))
            elif method == "ancova":
                fit = ancova(
                    panel, name, baseline=baseline, covariates=terms[1:], se=plan.se,
                    cluster="cluster", alpha=alpha,
                )  # fmt: skip
                fits.append((plan.primary_wave, method, fit, " + ".join(terms)))
            elif method == "did":
                fit = causal.did(panel, name, baseline=baseline, alpha=alpha)
                fits.append((plan.primary_wave, method, fit, baseline))
            else:
                fit = _propensity_fit(panel, name, method, terms, plan, alpha)
                fits.append((plan.primary_wave, method, fit, " + ".join(terms)))
        for wave, method, fit, covariates in fits:
            row = effect_row(fit, direction=outcome.instrument.direction, alpha=alpha)
            row |= sensitivity_columns(row, self_reported=outcome.instrument.kind == "items")
            row |= binary_row(row) if binary else {"outcome_type": "continuous"}
            rows.append(
                {
                    "cohort": cohort.name,
                    "outcome": name,
                    "label": outcome.case_label if binary else outcome.label,
                    "domain": outcome.domain,
                    "instrument": outcome.instrument.id,
                    "wave": wave,
                    "method": method,
                    "estimand": fit.get("estimand", plan.estimand),
                    **row,
                    "covariates": covariates,
                }
            )
    table = pd.DataFrame(rows)
    table["p_adjust_method"] = settings.multiplicity
    family = ["wave", "method", "outcome_type"]
    family += ["domain"] if settings.multiplicity_family == "domain" else []
    table["p_adjusted"] = table.groupby(family, sort=False)["p_value"].transform(
        lambda p: pd.Series(adjust_pvalues(p.to_numpy(), settings.multiplicity), index=p.index)
    )
    order = {m: i for i, m in enumerate(plan.methods)}
    waves = {w: i for i, w in enumerate(cohort.waves)}
    outcomes = {name: i for i, (_, name, _) in enumerate(_outcome_variants(cohort))}
    table = table.sort_values(
        ["outcome", "wave", "method"],
        key=lambda s: s.map({"outcome": outcomes, "wave": waves, "method": order}[s.name]),
    )
    return table[ESTIMATE_COLUMNS].reset_index(drop=True)


def _outcome_variants(cohort: Cohort):
    """(outcome, row name, is binary) for every outcome, then its caseness indicator when
    the outcome sets ``case_at_least``."""
    for outcome in cohort.outcomes:
        yield outcome, outcome.name, False
        if outcome.case_at_least is not None:
            yield outcome, f"{outcome.name}_case", True


def effect_row(fit: dict, *, direction: str, alpha: float = 0.05) -> dict:
    """The columns of an estimates row that follow from one estimator's result: the
    estimate and its inference, Hedges' g (WWC), improvement index, sample, direction and
    ``favours``. ``fit`` is the dict an estimator returns (``estimators``, ``causal``)."""
    n_p, n_c = fit["n_participants"], fit["n_comparison"]
    sd = (
        pooled_sd(fit["sd_participants"], fit["sd_comparison"], n_p, n_c)
        if n_p > 1 and n_c > 1
        else np.nan
    )
    g = hedges_g(fit["estimate"], sd, n_p, n_c, alpha=alpha)
    sign = 1 if direction == "higher_is_better" else -1
    return {
        **{k: fit[k] for k in ("estimate", "std_error", "df", "ci_low", "ci_high", "p_value")},
        **g,
        "improvement_index": improvement_index(sign * g["hedges_g"]),
        "n_participants": n_p,
        "n_comparison": n_c,
        "mean_participants": fit["mean_participants"],
        "mean_comparison": fit["mean_comparison"],
        "sd_pooled": sd,
        "direction": direction,
        "favours": _favours(fit["ci_low"], fit["ci_high"], sign),
        "se_type": fit["se_type"],
    }


def binary_row(row: dict) -> dict:
    """Columns of a 0/1 outcome's row: its estimate is a risk difference; the comparison
    proportion it implies (``p_participants - estimate``, the WWC way to read an adjusted
    difference; the observed one for ``unadjusted``) gives the odds ratio, the risk ratio and
    the Cox index ``[logit(p_i) - logit(p_c)] / 1.65`` (no small-sample factor)."""
    p_i = row["mean_participants"]
    p_c = p_i - row["estimate"]
    valid = 0 < p_i < 1 and 0 < p_c < 1
    if not valid:
        return {"outcome_type": "binary", "odds_ratio": np.nan, "risk_ratio": np.nan,
                "cox_index": np.nan}  # fmt: skip
    odds_ratio = (p_i / (1 - p_i)) / (p_c / (1 - p_c))
    return {
        "outcome_type": "binary",
        "odds_ratio": odds_ratio,
        "risk_ratio": p_i / p_c,
        "cox_index": cox_index(p_i, p_c, row["n_participants"], row["n_comparison"])["cox_index"],
    }


def _propensity_fit(panel, outcome, method, terms, plan, alpha) -> dict:
    """ipw, aipw or matching for one outcome: the propensity model on the plan's covariates
    and the outcome's baseline score, complete cases (the rows used are counted)."""
    kwargs = {"covariates": terms, "alpha": alpha, "missing": "drop"}
    if plan.propensity.get("trim", "none") == "common_support":
        panel = panel.loc[_common_support(panel, terms)]
    if method == "matching":
        options = plan.propensity
        kwargs |= {"caliper": options.get("caliper", 0.2), "replace": options.get("replace", False)}
        return causal.matching(panel, outcome, **kwargs)
    estimator = causal.ipw if method == "ipw" else causal.aipw
    return estimator(panel, outcome, estimand=plan.estimand, **kwargs)


def _common_support(panel: pd.DataFrame, terms: list[str]) -> pd.Index:
    """Rows of ``panel`` inside the common support of a propensity model on ``terms``."""
    frame = panel.assign(participant=(panel["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", terms, missing="drop")
    keep = trim_to_common_support(model.scores, model.treated)
    return keep.index[keep.to_numpy()]


def sensitivity_columns(row: dict, *, self_reported: bool) -> dict:
    """E-values (VanderWeele & Ding 2017) of the effect size and of its CI limit nearest the
    null, and the plausibility warning for large effects on self-reported outcomes."""
    if np.isnan(row["hedges_g"]):
        return {"evalue": np.nan, "evalue_ci": np.nan, "plausibility_warning": None}
    values = evalue_smd(row["hedges_g"], row["g_se"])
    warning = plausibility_warning(row["hedges_g"], self_reported=self_reported)
    return {"evalue": values["evalue"], "evalue_ci": values["evalue_ci"],
            "plausibility_warning": warning}  # fmt: skip


def _favours(ci_low: float, ci_high: float, sign: int) -> str:
    if np.isnan(ci_low) or ci_low <= 0 <= ci_high:
        return "unclear"
    return "participants" if (ci_low > 0) == (sign > 0) else "comparison"


def descriptives(scores: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Mean, SD and n of each outcome by wave and group.

    Returns
    -------
    DataFrame
        Columns ``outcome``, ``wave``, ``group``, ``n`` (non-missing scores), ``mean``,
        ``sd`` (ddof = 1), ``median``.
    """
    rows = []
    for outcome in cohort.outcomes:
        for wave in cohort.waves:
            for group in ("participant", "comparison"):
                values = scores.loc[
                    (scores["wave"] == wave) & (scores["group"] == group), outcome.name
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
    return pd.DataFrame(rows)


def flow(ledger: pd.DataFrame, scores: pd.DataFrame, estimates_table: pd.DataFrame,
         cohort: Cohort) -> pd.DataFrame:  # fmt: skip
    """Participant flow: the counts behind each step from responses received to analysis.

    Returns
    -------
    DataFrame
        Columns ``step``, ``wave``, ``group`` (``all`` before the group is known), ``n``.
        Steps: ``received``; ``excluded:<reason>``; ``kept``; ``followed_up`` (in both the
        baseline and the primary wave); ``lost_to_followup`` (baseline only);
        ``analysed:<outcome>`` (the ANCOVA sample, or the unadjusted one).
    """
    rows = []
    for wave in cohort.waves:
        part = ledger[ledger["wave"] == wave]
        rows.append({"step": "received", "wave": wave, "group": "all", "n": len(part)})
        for reason, n in (
            part.loc[part["disposition"] != KEPT, "disposition"]
            .value_counts(sort=False)
            .sort_index()
            .items()
        ):
            rows.append({"step": f"excluded:{reason}", "wave": wave, "group": "all", "n": int(n)})
        kept = scores[scores["wave"] == wave]
        for group in ("participant", "comparison"):
            n = int((kept["group"] == group).sum())
            rows.append({"step": "kept", "wave": wave, "group": group, "n": n})
    plan = cohort.plan
    base = scores[scores["wave"] == plan.baseline_wave].set_index("respondent_id")["group"]
    primary = scores[scores["wave"] == plan.primary_wave].set_index("respondent_id")["group"]
    for group in ("participant", "comparison"):
        in_base = base.index[base == group]
        both = int(in_base.isin(primary.index).sum())
        rows.append({"step": "followed_up", "wave": plan.primary_wave, "group": group, "n": both})
        rows.append({"step": "lost_to_followup", "wave": plan.primary_wave, "group": group,
                     "n": len(in_base) - both})  # fmt: skip
    method = plan.headline_method
    analysed = estimates_table[
        (estimates_table["wave"] == plan.primary_wave) & (estimates_table["method"] == method)
    ]
    for _, row in analysed.iterrows():
        for group, column in (("participant", "n_participants"), ("comparison", "n_comparison")):
            rows.append({"step": f"analysed:{row['outcome']}", "wave": plan.primary_wave,
                         "group": group, "n": int(row[column])})  # fmt: skip
    return pd.DataFrame(rows)


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
    estimates_table = estimates(scores, cohort, settings)
    tables = {
        "estimates": estimates_table,
        "descriptives": descriptives(scores, cohort),
        "flow": flow(ledger, scores, estimates_table, cohort),
        **design_diagnostics(analysis_panel(scores, cohort), cohort),
        "sensitivity": sensitivity_table(estimates_table, cohort),
    }
    if "reliability" in scored:
        reliability = scored.pop("reliability").copy()
        reliability["below_threshold"] = reliability["alpha"] < settings.min_alpha
        tables["reliability"] = reliability
    return tables | scored


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


def analyze_cohort(
    cohort: Cohort,
    settings: Settings,
    scores_path: str | Path,
    ledger_paths: list[str | Path],
    tables_dir: str | Path,
    scored_paths: dict[str, str | Path] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the scored data, analyse it, write each table as CSV and Parquet.

    ``scored_paths`` maps ``reliability``, ``items`` and ``safety`` to the score stage's
    Parquet files, which are passed through to the result tables.
    """
    scores = pd.read_parquet(scores_path)
    ledger = pd.concat([pd.read_parquet(p) for p in ledger_paths], ignore_index=True)
    scored = {name: pd.read_parquet(path) for name, path in (scored_paths or {}).items()}
    tables = analyze(scores, ledger, cohort, settings, scored)
    tables_dir = Path(tables_dir)
    log.info("%d estimates for %d outcomes", len(tables["estimates"]), len(cohort.outcomes))
    for name, table in tables.items():
        write_csv(table, tables_dir / f"{name}.csv")
        write_parquet(table, tables_dir / f"{name}.parquet",
                      pa.Schema.from_pandas(table, preserve_index=False))  # fmt: skip
    return tables
