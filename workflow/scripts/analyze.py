"""Adapter: analyse a cohort's scores (outcomes.analysis.analyze_cohort)."""

from pathlib import Path

from outcomes.analysis import analyze_cohort
from outcomes.config import load_cohort, settings_from_dict
from outcomes.workflow import log_to

with log_to(snakemake.log[0]):
    analyze_cohort(
        load_cohort(snakemake.input.cohort),
        settings_from_dict(snakemake.config),
        scores_path=snakemake.input.scores,
        ledger_paths=list(snakemake.input.ledgers),
        tables_dir=Path(snakemake.output.estimates).parent,
        scored_paths={
            "reliability": snakemake.input.reliability,
            "items": snakemake.input.item_stats,
            "safety": snakemake.input.safety,
        },
    )
