"""Adapter: score every wave of a cohort (outcomes.instruments.stage.score_cohort)."""

from outcomes.config import load_cohort
from outcomes.instruments.stage import score_cohort
from outcomes.workflow import log_to

with log_to(snakemake.log[0]):
    score_cohort(
        load_cohort(snakemake.input.cohort),
        responses_paths=list(snakemake.input.responses),
        scores_path=snakemake.output.scores,
        reliability_path=snakemake.output.reliability,
        items_path=snakemake.output.item_stats,
        safety_path=snakemake.output.safety,
    )
