"""The estimates table: families of the multiplicity adjustment, orientation columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from outcomes.analysis import estimates
from outcomes.analysis.multiplicity import adjust_pvalues
from outcomes.ingest import ingest_wave
from outcomes.instruments.stage import score_responses


def _scores(cohort):
    responses = pd.concat([ingest_wave(cohort, w).responses for w in cohort.waves])
    return score_responses(responses, cohort)


def test_p_values_are_adjusted_within_domains(small_simulation, settings):
    _, cohort, _ = small_simulation
    scores = _scores(cohort)
    table = estimates(scores, cohort, settings)
    ancova = table[(table["method"] == "ancova")].set_index("outcome")
    # Demo domains (config/cohorts/demo.yaml): 4 mental-health outcomes, loneliness (social),
    # gpa (academic). BH within the family of 4, by the tested adjust_pvalues (R's p.adjust).
    mental = ["stress", "self_esteem", "depression", "anxiety"]
    expected = adjust_pvalues(ancova.loc[mental, "p_value"].to_numpy(), "bh")
    np.testing.assert_allclose(ancova.loc[mental, "p_adjusted"], expected, rtol=1e-12)
    # A family of one is not adjusted.
    for single in ("loneliness", "gpa"):
        assert ancova.loc[single, "p_adjusted"] == ancova.loc[single, "p_value"]
    # With multiplicity_family "all" the six form one family.
    every = estimates(scores, cohort, dataclasses.replace(settings, multiplicity_family="all"))
    every = every[every["method"] == "ancova"].set_index("outcome")
    np.testing.assert_allclose(
        every["p_adjusted"], adjust_pvalues(every["p_value"].to_numpy(), "bh"), rtol=1e-12
    )
