"""The report stage: result tables -> a self-contained HTML report for funders."""

from outcomes.report.render import render_report, report_cohort

__all__ = ["render_report", "report_cohort"]
