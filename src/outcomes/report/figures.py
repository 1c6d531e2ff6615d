"""Figures, one function each, returning a matplotlib Figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

_BENEFIT = "#1b7837"
_NAIVE = "#9e9e9e"


def benefit_oriented(estimates: pd.DataFrame) -> pd.DataFrame:
    """Hedges' g and its CI with the sign flipped for lower-is-better outcomes, so that a
    positive value always means participants fared better. Columns ``g``, ``g_low``, ``g_high``."""
    sign = np.where(estimates["direction"] == "higher_is_better", 1.0, -1.0)
    low, high = sign * estimates["g_ci_low"], sign * estimates["g_ci_high"]
    return pd.DataFrame(
        {
            "label": estimates["label"].to_numpy(),
            "g": (sign * estimates["hedges_g"]).to_numpy(),
            "g_low": np.minimum(low, high).to_numpy(),
            "g_high": np.maximum(low, high).to_numpy(),
        }
    )


def forest_plot(adjusted: pd.DataFrame, unadjusted: pd.DataFrame | None = None) -> plt.Figure:
    """Forest plot of effect sizes, benefit to the right.

    Parameters
    ----------
    adjusted : DataFrame
        Rows of ``estimates`` for the adjusted method at the primary wave, in display order.
    unadjusted : DataFrame, optional
        The unadjusted rows for the same outcomes, drawn as hollow grey markers.
    """
    data = benefit_oriented(adjusted)
    y = np.arange(len(data))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(data) + 1.4))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.hlines(y, data["g_low"], data["g_high"], color=_BENEFIT, linewidth=2.2)
    ax.plot(data["g"], y, "o", color=_BENEFIT, markersize=7, label="Adjusted for starting point")
    if unadjusted is not None and len(unadjusted):
        naive = benefit_oriented(unadjusted)
        ax.plot(naive["g"], y + 0.22, "o", mfc="white", mec=_NAIVE, markersize=6,
                label="Simple comparison (not adjusted)")  # fmt: skip
    ax.set_yticks(y, data["label"])
    limit = max(0.6, float(np.nanmax(np.abs(np.r_[data["g_low"], data["g_high"]]))) + 0.1)
    ax.set_xlim(-limit, limit)
    ax.set_xlabel("Effect size (Hedges' g); right of the line = participants better off")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def to_svg(fig: plt.Figure) -> str:
    """Render a figure as an inline SVG string, deterministically (no date, fixed ids)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "outcomes", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def love_plot(balance: pd.DataFrame, threshold: float = 0.1) -> plt.Figure:
    """Love plot: absolute standardized mean difference of each covariate before and after
    each adjustment, with the WWC lines at 0.05 and 0.25 and a conventional 0.1.

    Parameters
    ----------
    balance : DataFrame
        The long balance table (``covariate``, ``adjustment``, ``smd``).
    """
    adjustments = list(dict.fromkeys(balance["adjustment"]))
    covariates = list(dict.fromkeys(balance["covariate"]))
    y = {c: i for i, c in enumerate(reversed(covariates))}
    markers = {"unadjusted": ("o", "white", _NAIVE), "ipw": ("s", _BENEFIT, _BENEFIT),
               "matching": ("D", "#2166ac", "#2166ac")}  # fmt: skip
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(covariates) + 1.6))
    for line, style in ((0.05, ":"), (threshold, "--"), (0.25, "-")):
        ax.axvline(line, color="#bbbbbb", linestyle=style, linewidth=0.8)
    for adjustment in adjustments:
        rows = balance[balance["adjustment"] == adjustment]
        marker, face, edge = markers.get(adjustment, ("^", "#762a83", "#762a83"))
        ax.plot(rows["smd"].abs(), [y[c] for c in rows["covariate"]], marker, mfc=face,
                mec=edge, linestyle="none", markersize=6, label=adjustment)  # fmt: skip
    ax.set_yticks(range(len(covariates)), list(reversed(covariates)), fontsize=8)
    ax.set_xlabel("Absolute standardized difference (0.05 and 0.25: WWC lines)")
    ax.set_xlim(0, max(0.3, float(balance["smd"].abs().max()) * 1.1))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(adjustments),
              fontsize=8, frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig
