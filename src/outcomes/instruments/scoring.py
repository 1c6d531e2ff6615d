"""Scale scores from item values.

Items arrive already mapped from their response labels to the instrument's key (see
:mod:`outcomes.ingest.codebook`); here they are reverse-keyed, checked and combined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.errors import OutcomesError
from outcomes.instruments.registry import Instrument
from outcomes.redact import describe_value


def reverse_key(values: pd.Series | np.ndarray, instrument: Instrument):
    """Reverse-score item values: ``(item_min + item_max) - x``.

    Applying it twice returns the input.
    """
    return (instrument.item_min + instrument.item_max) - values


def score_instrument(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Score one instrument for every row.

    Parameters
    ----------
    items : DataFrame
        One column per item, in the instrument's item order (``instrument.items``), holding item
        values on the instrument's key (not reverse-keyed yet); missing answers are NaN. For a
        ``numeric`` instrument, a single column with the value itself.
    instrument : Instrument

    Returns
    -------
    DataFrame
        Same index as ``items``, columns:

        - ``score`` (float): the scale score, unrounded; NaN when it cannot be computed.
        - ``n_answered`` (int): number of items answered.
        - ``band`` (str or None): severity band of the score rounded half up, for instruments
          with bands.
        - ``missing_reason`` (str or None): why ``score`` is missing - ``not_answered`` (no
          item answered) or ``too_few_items`` (fewer than ``min_answered``); None when scored.

    Notes
    -----
    Reverse-keyed items are scored ``(min + max) - x``. With ``scoring: sum``, the score is the
    sum over items when all are answered; when ``min_answered <= n_answered < k`` it is
    prorated as ``mean(answered items) * k`` (person-mean proration); with fewer answered
    items it is NaN, never zero. With ``scoring: mean`` it is the mean of answered items under
    the same minimum. Bands use the score rounded half up (prorated totals are only rounded for
    banding).

    Raises
    ------
    OutcomesError
        If an item value lies outside the instrument's response key range.

    Examples
    --------
    >>> from outcomes.instruments import get_instrument
    >>> phq9 = get_instrument("phq9")
    >>> items = pd.DataFrame([[1, 1, 1, 1, 1, 1, 1, 1, 1]], columns=range(1, 10))
    >>> scored = score_instrument(items, phq9).iloc[0]
    >>> float(scored["score"]), int(scored["n_answered"]), scored["band"]
    (9.0, 9, 'mild')
    """
    if instrument.kind == "numeric":
        values = pd.to_numeric(items.iloc[:, 0], errors="coerce").astype(float)
        _check_range(values.to_frame(), instrument.range, instrument)
        n_answered = values.notna().astype(int)
        return _with_bands(values, n_answered, instrument)

    if items.shape[1] != len(instrument.items):
        raise OutcomesError(
            f"wrong number of item columns for {instrument.id}",
            expected=f"{len(instrument.items)} items",
            found=f"{items.shape[1]} columns",
        )
    values = items.to_numpy(dtype=float, na_value=np.nan, copy=True)
    _check_range(
        pd.DataFrame(values, index=items.index, columns=items.columns),
        (instrument.item_min, instrument.item_max),
        instrument,
    )
    reverse_cols = [pos for pos, item in enumerate(instrument.items) if item in instrument.reverse]
    values[:, reverse_cols] = reverse_key(values[:, reverse_cols], instrument)
    answered = ~np.isnan(values)
    n_answered = answered.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        item_mean = np.where(answered, values, 0.0).sum(axis=1) / n_answered
    k = len(instrument.items)
    score = item_mean * k if instrument.scoring == "sum" else item_mean
    score = np.where(n_answered >= instrument.min_answered, score, np.nan)
    return _with_bands(
        pd.Series(score, index=items.index, dtype=float),
        pd.Series(n_answered, index=items.index, dtype=int),
        instrument,
    )


def _check_range(values: pd.DataFrame, bounds: tuple[float, float], instrument: Instrument):
    lo, hi = bounds
    bad = values.lt(lo) | values.gt(hi)
    if bad.to_numpy().any():
        row_pos, col_pos = np.argwhere(bad.to_numpy())[0]
        raise OutcomesError(
            f"value outside the range of {instrument.id}",
            row=None,
            column=str(values.columns[col_pos]),
            expected=f"{lo:g} to {hi:g}",
            found=f"{describe_value(values.iat[row_pos, col_pos])} (row position {row_pos + 1})",
        )


def _with_bands(score: pd.Series, n_answered: pd.Series, instrument: Instrument) -> pd.DataFrame:
    reason = np.where(
        score.notna().to_numpy(),
        None,
        np.where(n_answered.to_numpy() == 0, "not_answered", "too_few_items"),
    )
    result = pd.DataFrame({"score": score, "n_answered": n_answered})
    if instrument.bands:
        edges = [band.min for band in instrument.bands]
        labels = [band.label for band in instrument.bands]
        rounded = np.floor(score.to_numpy() + 0.5)
        position = np.searchsorted(edges, rounded, side="right") - 1
        band = np.where(np.isnan(rounded), None, np.array(labels, dtype=object)[position.clip(0)])
        result["band"] = pd.Categorical(band, categories=labels, ordered=True)
    else:
        result["band"] = pd.Categorical([None] * len(score), categories=[], ordered=True)
    result["missing_reason"] = pd.Series(reason, index=score.index, dtype=object)
    return result
