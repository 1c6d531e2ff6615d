# Shared helpers: load and validate the config through the library (the same validation as
# the CLI and the Python API), wildcard constraints, and the code fingerprint that makes
# Snakemake rerun a stage when the library changes.

from outcomes.config import check_paths, settings_from_dict, load_cohort
from outcomes.workflow import code_fingerprint

SETTINGS = settings_from_dict(config, path="config/config.yaml")
COHORTS = {name: load_cohort(SETTINGS.cohort_path(name)) for name in SETTINGS.cohorts}
for _cohort in COHORTS.values():
    check_paths(_cohort, SETTINGS)
CODE = code_fingerprint()


wildcard_constraints:
    cohort="|".join(COHORTS),
    wave="|".join(sorted({w for c in COHORTS.values() for w in c.waves})),


def cohort_file(wildcards):
    return str(SETTINGS.cohort_path(wildcards.cohort))


def wave_sources(wildcards):
    return [s.path for s in COHORTS[wildcards.cohort].sources_for(wildcards.wave)]


def wave_outputs(wildcards, name):
    return [
        f"data/interim/{wildcards.cohort}/{wave}/{name}.parquet"
        for wave in COHORTS[wildcards.cohort].waves
    ]


def all_responses(wildcards):
    return wave_outputs(wildcards, "responses")


def all_ledgers(wildcards):
    return wave_outputs(wildcards, "ledger")


def final_outputs():
    return [f"reports/{name}/report.html" for name in COHORTS]
