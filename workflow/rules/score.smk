rule score:
    input:
        responses=all_responses,
        cohort=cohort_file,
    output:
        scores="data/processed/{cohort}/scores.parquet",
        reliability="data/processed/{cohort}/reliability.parquet",
        item_stats="data/processed/{cohort}/items.parquet",
        safety="data/processed/{cohort}/safety.parquet",
    log:
        "logs/{cohort}/score.log",
    params:
        code=CODE,
    script:
        "../scripts/score.py"
