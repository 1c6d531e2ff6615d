"""Glue between the Snakemake workflow and the library.

Snakemake does not rerun a rule when a module its script imports changes. Every rule therefore
takes :func:`code_fingerprint` (a hash of the package's source, data files and version) as a
param: any change to the library changes the param, and Snakemake's ``params`` rerun trigger
reruns the stages.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import outcomes
from outcomes.errors import OutcomesError

log = logging.getLogger("outcomes")


def code_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the package version and every source and data file."""
    root = Path(outcomes.__file__).parent
    digest = hashlib.sha256(outcomes.__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".j2", ".html", ".css"}:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def error_file(log_path: str | Path) -> Path:
    """Where a failing step leaves its one-message error: ``<log>.error`` beside its log.
    ``outcomes run`` prints these at the end of a failed run."""
    path = Path(log_path)
    return path.with_name(path.name + ".error")


@contextlib.contextmanager
def log_to(path: str | Path) -> Iterator[logging.Logger]:
    """Send the library's log messages to ``path``; turn a failure into one message.

    An :class:`~outcomes.errors.OutcomesError` (a problem with the user's input) is logged,
    printed to stderr as ``outcomes: error: ...`` (file, row, column, expected, found: never
    a traceback) and written to :func:`error_file`; the step then exits with status 2. Any
    other exception is a bug: its traceback goes to the log only, stderr says so and where
    the log is (the exception's text is not printed: it could hold a data value), and the
    step exits with status 3.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    error_path = error_file(path)
    error_path.unlink(missing_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield log
    except OutcomesError as exc:
        log.error("%s", exc)
        _fail(error_path, f"outcomes: error: {exc}", status=2)
    except Exception as exc:
        log.exception("unexpected error")
        message = (
            f"outcomes: internal error ({type(exc).__name__}): this is a bug in outcomes, not "
            f"a problem with your data; the details are in {path}"
        )
        _fail(error_path, message, status=3)
    finally:
        log.removeHandler(handler)
        handler.close()
        sys.stdout.flush()


def _fail(error_path: Path, message: str, *, status: int) -> None:
    error_path.write_text(message + "\n", encoding="utf-8")
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(status)
