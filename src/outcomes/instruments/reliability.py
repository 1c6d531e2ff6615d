"""Internal consistency of scored items."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def cronbach_alpha(items: pd.DataFrame, ci: float = 0.95) -> dict[str, float]:
    """Cronbach's alpha on complete cases, with a confidence interval.

    Parameters
    ----------
    items : DataFrame
        One column per item, already reverse-keyed; rows with any missing item are dropped.
    ci : float
        Confidence level of the interval.

    Returns
    -------
    dict
        ``alpha``, ``ci_low``, ``ci_high``, ``n`` (complete cases) and ``k`` (items).

    Notes
    -----
    ``alpha = k / (k - 1) * (1 - sum(s_i^2) / s_total^2)`` with sample variances (ddof = 1).
    The interval is Feldt's F-based interval, as in pingouin's ``cronbach_alpha``:
    ``1 - (1 - alpha) * F_{q}(n - 1, (n - 1)(k - 1))`` for ``q = (1 +- ci) / 2``.
    """
    complete = items.dropna()
    n, k = complete.shape
    if n < 2 or k < 2:
        return {"alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": n, "k": k}
    item_var = complete.var(ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    alpha = k / (k - 1) * (1 - item_var / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - ci) / 2
    ci_low = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
    ci_high = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    return {
        "alpha": float(alpha),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "n": n,
        "k": k,
    }


def item_statistics(items: pd.DataFrame) -> pd.DataFrame:
    """Item analysis on complete cases of reverse-keyed items.

    Returns
    -------
    DataFrame
        One row per item: ``item`` (column name), ``n``, ``mean``, ``sd`` (ddof = 1),
        ``item_total_r`` (corrected item-total correlation: Pearson r of the item with the sum
        of the *other* items) and ``alpha_if_deleted`` (Cronbach's alpha of the other items).
    """
    complete = items.dropna()
    rows = []
    total = complete.sum(axis=1)
    for column in complete.columns:
        rest = total - complete[column]
        spread = complete[column].std(ddof=1) > 0 and rest.std(ddof=1) > 0
        rows.append(
            {
                "item": column,
                "n": len(complete),
                "mean": complete[column].mean() if len(complete) else np.nan,
                "sd": complete[column].std(ddof=1) if len(complete) > 1 else np.nan,
                "item_total_r": float(np.corrcoef(complete[column], rest)[0, 1])
                if len(complete) > 2 and spread
                else np.nan,
                "alpha_if_deleted": cronbach_alpha(complete.drop(columns=column))["alpha"]
                if complete.shape[1] > 2
                else np.nan,
            }
        )
    return pd.DataFrame(rows)
