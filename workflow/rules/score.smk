rule score:
    input:
        responses=all_responses,
        cohort=cohort_file,
    output:
        scores="data/processed/{cohort}/scores.parquet",
        reliability="data/processed/{cohort}/reliability.parquet",
    log:
        "logs/{cohort}/score.log",
    params:
        code=CODE,
    script:
        "../scripts/score.py"
