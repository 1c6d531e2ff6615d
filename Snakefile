# outcomes: raw survey exports -> pseudonymized data -> scores -> estimates -> funder report.
# Stages, in order: ingest, score, analyze, report (one rule file each in workflow/rules/).


from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
