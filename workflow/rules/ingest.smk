rule ingest:
    input:
        exports=wave_sources,
        cohort=cohort_file,
    output:
        responses="data/interim/{cohort}/{wave}/responses.parquet",
        ledger="data/interim/{cohort}/{wave}/ledger.parquet",
    log:
        "logs/{cohort}/ingest_{wave}.log",
    benchmark:
        "benchmarks/{cohort}/ingest_{wave}.tsv"
    params:
        code=CODE,
    script:
        "../scripts/ingest.py"
