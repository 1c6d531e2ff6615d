rule report:
    input:
        tables=rules.analyze.output.tables,
        estimates=rules.analyze.output.estimates,
        cohort=cohort_file,
    output:
        html=report(
            "reports/{cohort}/report.html",
            caption="../report/report.rst",
            category="Reports",
            labels={"report": "funders"},
        ),
    log:
        "logs/{cohort}/report.log",
    params:
        code=CODE,
    script:
        "../scripts/report.py"
