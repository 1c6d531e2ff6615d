"""Adapter: render a cohort's funder report (outcomes.report.report_cohort)."""

from pathlib import Path

from outcomes.config import load_cohort, settings_from_dict
from outcomes.report import report_cohort
from outcomes.workflow import log_to

with log_to(snakemake.log[0]):
    report_cohort(
        Path(snakemake.input.estimates).parent,
        load_cohort(snakemake.input.cohort),
        settings_from_dict(snakemake.config),
        out_html=snakemake.output.html,
    )
