"""Adapter: ingest one wave of a cohort (outcomes.ingest.ingest_wave)."""

from outcomes.config import load_cohort
from outcomes.ingest import ingest_wave
from outcomes.workflow import log_to

with log_to(snakemake.log[0]):
    ingest_wave(
        load_cohort(snakemake.input.cohort),
        snakemake.wildcards.wave,
        responses_path=snakemake.output.responses,
        ledger_path=snakemake.output.ledger,
    )
