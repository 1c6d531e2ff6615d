"""outcomes: from raw survey exports to a funder-ready evaluation report.

The library behind the Snakemake workflow and the ``outcomes`` command. Each stage is a
sub-package: :mod:`outcomes.ingest`, :mod:`outcomes.instruments`, :mod:`outcomes.analysis`
and :mod:`outcomes.report`; :mod:`outcomes.simulate` makes the demo cohort.
"""

from importlib.metadata import PackageNotFoundError, version

from outcomes.errors import OutcomesError

try:
    __version__ = version("outcomes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["OutcomesError", "__version__", "balance", "compare"]


def __getattr__(name: str):
    # The engine is imported on first use: `import outcomes` stays light (no statsmodels).
    if name == "compare":
        from outcomes.comparison import compare

        return compare
    if name == "balance":
        from outcomes.comparison import balance

        return balance
    raise AttributeError(f"module 'outcomes' has no attribute {name!r}")
