"""The analyze stage: scores -> tidy result tables.

- :mod:`outcomes.analysis.engine` - one outcome of one panel -> estimate rows (the only
  dispatch to the estimators; :func:`outcomes.compare` uses it too);
- :mod:`outcomes.analysis.cohort` - a cohort's tables (estimates at every wave, descriptives,
  flow, attrition, clusters, sensitivity);
- :mod:`outcomes.analysis.stage` - reads the scored Parquet files and writes the tables.
"""

from __future__ import annotations

from outcomes.analysis.cohort import (
    ESTIMATE_COLUMNS,
    analyze,
    attrition,
    descriptives,
    estimates,
    flow,
    icc_table,
    sensitivity_table,
)
from outcomes.analysis.panel import analysis_panel, cohort_membership
from outcomes.analysis.stage import analyze_cohort

__all__ = [
    "ESTIMATE_COLUMNS",
    "analysis_panel",
    "analyze",
    "analyze_cohort",
    "attrition",
    "cohort_membership",
    "descriptives",
    "estimates",
    "flow",
    "icc_table",
    "sensitivity_table",
]
