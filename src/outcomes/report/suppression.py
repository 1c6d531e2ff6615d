"""Small-cell rules applied to every count a report shows."""

from __future__ import annotations

import math


def suppress_count(n: int | float | None, min_cell_size: int) -> str:
    """Format a count for a report: counts from 1 to ``min_cell_size - 1`` become
    ``"<min_cell_size"``; 0 is shown (it discloses nobody); missing is an em dash.

    Examples
    --------
    >>> [suppress_count(n, 10) for n in (0, 3, 9, 10, 1234)]
    ['0', '<10', '<10', '10', '1,234']
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "\u2014"
    n = int(n)
    if 0 < n < min_cell_size:
        return f"<{min_cell_size}"
    return f"{n:,}"


def too_small(n_participants: int, n_comparison: int, min_cell_size: int) -> bool:
    """True when a statistic must be withheld because a group has fewer than
    ``min_cell_size`` members."""
    return min(int(n_participants), int(n_comparison)) < min_cell_size


def suppress_breakdown(counts: list[int], min_cell_size: int) -> list[str]:
    """Format the parts of a total whose other parts are shown, with complementary
    suppression: when exactly one part is small, the next smallest non-zero part is hidden
    too (as ``"*"``), so that the small one cannot be recovered by subtraction.

    Examples
    --------
    >>> suppress_breakdown([37, 4, 12, 0], 10)
    ['37', '<10', '*', '0']
    >>> suppress_breakdown([37, 4, 3], 10)
    ['37', '<10', '<10']
    """
    shown = [suppress_count(n, min_cell_size) for n in counts]
    small = [i for i, n in enumerate(counts) if 0 < n < min_cell_size]
    if len(small) == 1:
        others = [i for i, n in enumerate(counts) if n >= min_cell_size]
        if others:
            shown[min(others, key=lambda i: counts[i])] = "*"
    return shown
