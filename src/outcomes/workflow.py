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


@contextlib.contextmanager
def log_to(path: str | Path) -> Iterator[logging.Logger]:
    """Send the library's log messages and any traceback of a failing step to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield log
    except Exception as exc:
        log.error("%s", exc)
        raise
    finally:
        log.removeHandler(handler)
        handler.close()
        sys.stdout.flush()
