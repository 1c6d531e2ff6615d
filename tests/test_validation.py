"""The simulation study's bookkeeping (the study itself runs with `make validate`)."""

from __future__ import annotations

import pandas as pd
import pytest

from outcomes.validation import replicate, summarize


def test_summarize_by_hand():
    # Two replications of one method/outcome, truth 1.0, SD 2.0: estimates 1.2 and 0.6 ->
    # errors +0.2 and -0.4: bias -0.1 (score units), -0.05 SD; RMSE sqrt((0.01 + 0.04)/2)
    # = 0.158114 SD; intervals [1.0, 1.4] (covers) and [0.1, 0.9] (misses): coverage 0.5.
    runs = pd.DataFrame({
        "seed": [1, 2], "outcome": ["stress"] * 2, "method": ["ipw"] * 2,
        "estimate": [1.2, 0.6], "std_error": [0.1, 0.3], "ci_low": [1.0, 0.1],
        "ci_high": [1.4, 0.9], "truth": [1.0, 1.0], "sd": [2.0, 2.0],
    })  # fmt: skip
    row = summarize(runs).iloc[0]
    assert row["bias"] == pytest.approx(-0.1)
    assert row["bias_sd"] == pytest.approx(-0.05)
    assert row["rmse_sd"] == pytest.approx(0.158114, abs=1e-6)
    assert row["coverage"] == 0.5
    # SE ratio: mean SE 0.2 over the SD of the estimates (0.424264) = 0.471405.
    assert row["se_ratio"] == pytest.approx(0.2 / 0.4242641, abs=1e-6)


def test_one_replication_has_every_method_and_outcome():
    rows = replicate(123, n_students=300)
    assert set(rows["method"]) == {"unadjusted", "ancova", "ipw", "aipw", "matching", "did"}
    assert rows["outcome"].nunique() == 6
    assert (rows.groupby("outcome")["truth"].nunique() == 1).all()
