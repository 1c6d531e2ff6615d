rule ingest:
    input:
        exports=wave_sources,
        cohort=cohort_file,
    output:
        responses="data/interim/{cohort}/{wave}/responses.parquet",
        ledger="data/interim/{cohort}/{wave}/ledger.parquet",
    params:
        code=CODE,
    log:
        "logs/{cohort}/ingest_{wave}.log",
    benchmark:
        "benchmarks/{cohort}/ingest_{wave}.tsv"
    script:
        "../scripts/ingest.py"
