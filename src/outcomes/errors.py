"""Errors a user can act on.

Every mistake in a user's input (config, export, key) raises :class:`OutcomesError`. Its message
names the file, and where they apply the row and the column, what was expected and what was
found. The command line prints the message without a traceback and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class OutcomesError(Exception):
    """A problem with the user's input, described well enough to fix it.

    Parameters
    ----------
    problem : str
        One line saying what is wrong.
    file : str or Path, optional
        The file where the problem is.
    row : int, optional
        The 1-based line number in the file (header rows count), where it applies.
    column : str, optional
        The column (or config key) where it applies.
    expected : str, optional
        What the pipeline expected there.
    found : str, optional
        What it found instead.
    """

    problem: str
    file: str | Path | None = None
    row: int | None = None
    column: str | None = None
    expected: str | None = None
    found: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        lines = [self.problem if not where else f"{', '.join(where)}: {self.problem}"]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        return "\n".join(lines)


class ConfigError(OutcomesError):
    """The configuration is invalid (the ``column`` is the config key)."""


class ExportError(OutcomesError):
    """A survey export cannot be read or does not match its cohort config."""
