"""Adjusting p-values across the outcomes of one family."""

from __future__ import annotations

from typing import Literal

import numpy as np

Method = Literal["bh", "holm", "none"]


def adjust_pvalues(p_values, method: Method = "bh") -> np.ndarray:
    """Adjusted p-values; missing p-values stay missing and do not count in m.

    Notes
    -----
    ``bh`` (Benjamini & Hochberg 1995): ``p~_(i) = min_{j >= i} min(1, m p_(j) / j)``, as R's
    ``p.adjust(method = "BH")``. ``holm``: ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
    Ties share the adjusted value their sorted positions give (stable sort).

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    if method not in ("bh", "holm", "none"):
        raise ValueError(f"method must be one of bh, holm, none; got {method!r}")
    out = np.full(p.shape, np.nan)
    present = ~np.isnan(p)
    m = int(present.sum())
    if m == 0 or method == "none":
        return p.copy()
    values = p[present]
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    rank = np.arange(1, m + 1)
    if method == "bh":
        adjusted = np.minimum.accumulate((m / rank * ranked)[::-1])[::-1]
    else:
        adjusted = np.maximum.accumulate((m - rank + 1) * ranked)
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[present] = result
    return out
