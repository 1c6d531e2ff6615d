"""Instrument definitions, read from the YAML files in ``builtin/``.

An instrument is data, not code: its items, the value of each response label, the reverse-keyed
items (by item id, never by column position), the scoring rule, the minimum number of answered
items for a score (proration), the direction of benefit and the severity bands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Literal

import yaml

from outcomes.errors import ConfigError

Direction = Literal["lower_is_better", "higher_is_better"]


def normalize_label(label: str) -> str:
    """Return the comparison form of a response label: HTML tags removed (REDCap and
    Qualtrics labels may carry formatting), case-folded, single-spaced, trimmed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", str(label))).strip().casefold()


@dataclass(frozen=True)
class Band:
    """A severity band: scores ``>= min`` up to the next band's ``min``."""

    label: str
    min: float


@dataclass(frozen=True)
class Instrument:
    """One instrument's scoring rules.

    Attributes
    ----------
    id : str
        Short identifier used in config (``phq9``, ``pss10``...).
    kind : {"items", "numeric"}
        ``items``: a questionnaire scored from labelled items; ``numeric``: one numeric value
        taken as it is (e.g. GPA), checked against ``range``.
    items : tuple of int
        Item ids in their printed order.
    responses : dict
        Response label -> item value (the instrument's key).
    reverse : frozenset of int
        Item ids scored ``(min + max) - value``.
    scoring : {"sum", "mean"}
    min_answered : int
        Fewest answered items for a score; with fewer the score is missing. When some items are
        missing but at least ``min_answered`` are answered, the sum is prorated:
        ``mean(answered) * n_items``.
    range : tuple of float
        Lowest and highest possible score.
    direction : {"lower_is_better", "higher_is_better"}
    bands : tuple of Band
    safety_item : int or None
        An item that is a clinical-safety flag (PHQ-9 item 9); reported only in aggregate.
    letter_points, percent_letters
        For grades: letter -> grade points, and the lowest percentage of each letter, used
        to put letter and percent grades on the instrument's scale.
    """

    id: str
    name: str
    construct: str
    citation: str
    direction: Direction
    kind: Literal["items", "numeric"] = "items"
    items: tuple[int, ...] = ()
    responses: dict[str, float] = field(default_factory=dict)
    reverse: frozenset[int] = frozenset()
    scoring: Literal["sum", "mean"] = "sum"
    min_answered: int = 0
    range: tuple[float, float] = (0.0, 0.0)
    bands: tuple[Band, ...] = ()
    safety_item: int | None = None
    stem: str = ""
    item_topics: dict[int, str] = field(default_factory=dict)
    letter_points: dict[str, float] = field(default_factory=dict)
    percent_letters: tuple[tuple[str, float], ...] = ()

    @property
    def item_min(self) -> float:
        return min(self.responses.values())

    @property
    def item_max(self) -> float:
        return max(self.responses.values())

    def value_of(self, label: str) -> float | None:
        """The item value of a response label, or None when the label is not in the key."""
        return self._label_lookup.get(normalize_label(label))

    @cached_property
    def _label_lookup(self) -> dict[str, float]:
        return {normalize_label(k): float(v) for k, v in self.responses.items()}


def instrument_from_dict(spec: dict, source: str) -> Instrument:
    """Build an :class:`Instrument` from its YAML mapping, checking that it is coherent."""
    try:
        kind = spec.get("kind", "items")
        bands = tuple(Band(str(b["label"]), float(b["min"])) for b in spec.get("bands", []))
        if kind == "numeric":
            lo, hi = (float(x) for x in spec["range"])
            return Instrument(
                id=spec["id"],
                name=spec["name"],
                construct=spec["construct"],
                citation=spec["citation"],
                direction=spec["direction"],
                kind="numeric",
                range=(lo, hi),
                bands=bands,
                letter_points={
                    str(k).strip().upper(): float(v)
                    for k, v in spec.get("letter_points", {}).items()
                },
                percent_letters=tuple(
                    (str(b["letter"]).strip().upper(), float(b["min"]))
                    for b in spec.get("percent_letters", [])
                ),
            )
        items = tuple(int(i["id"]) for i in spec["items"])
        responses = {str(k): float(v) for k, v in spec["responses"].items()}
        reverse = frozenset(int(i) for i in spec.get("reverse", []))
        scoring = spec.get("scoring", "sum")
        lo_item, hi_item = min(responses.values()), max(responses.values())
        per_item = (lo_item, hi_item) if scoring == "mean" else None
        score_range = per_item or (lo_item * len(items), hi_item * len(items))
        instrument = Instrument(
            id=spec["id"],
            name=spec["name"],
            construct=spec["construct"],
            citation=spec["citation"],
            direction=spec["direction"],
            items=items,
            responses=responses,
            reverse=reverse,
            scoring=scoring,
            min_answered=int(spec.get("min_answered", len(items))),
            range=score_range,
            bands=bands,
            safety_item=spec.get("safety_item"),
            stem=spec.get("stem", ""),
            item_topics={int(i["id"]): str(i.get("topic", "")) for i in spec["items"]},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            "instrument definition is incomplete or malformed",
            file=source,
            expected="keys id, name, construct, citation, direction, items, responses",
            found=f"{type(exc).__name__}: {exc}",
        ) from exc
    if len(set(instrument.items)) != len(instrument.items):
        raise ConfigError(
            "item ids repeat",
            file=source,
            column="items",
            expected="each item id once",
            found=str(list(instrument.items)),
        )
    edges = [band.min for band in instrument.bands]
    if edges != sorted(edges) or len(set(edges)) != len(edges):
        raise ConfigError(
            "bands must rise",
            file=source,
            column="bands",
            expected="band minimums in increasing order",
            found=str(edges),
        )
    if len(set(instrument.responses.values())) < 2:
        raise ConfigError(
            "a response key needs at least two different values",
            file=source,
            column="responses",
            expected="label: value pairs such as Never: 0, Often: 2",
            found=str(instrument.responses),
        )
    unknown = instrument.reverse - set(instrument.items)
    if unknown:
        raise ConfigError(
            "reverse-keyed items are not items of the instrument",
            file=source,
            column="reverse",
            expected=f"item ids among {list(instrument.items)}",
            found=str(sorted(unknown)),
        )
    if not 1 <= instrument.min_answered <= len(instrument.items):
        raise ConfigError(
            "min_answered must be between 1 and the number of items",
            file=source,
            column="min_answered",
            expected=f"1..{len(instrument.items)}",
            found=str(instrument.min_answered),
        )
    return instrument


@cache
def _builtin() -> dict[str, Instrument]:
    found = {}
    for entry in resources.files("outcomes.instruments").joinpath("builtin").iterdir():
        if entry.name.endswith(".yaml"):
            spec = yaml.safe_load(entry.read_text(encoding="utf-8"))
            found[spec["id"]] = instrument_from_dict(spec, source=f"builtin/{entry.name}")
    return found


def list_instruments() -> list[str]:
    """Ids of the built-in instruments, sorted."""
    return sorted(_builtin())


def get_instrument(instrument_id: str) -> Instrument:
    """Return the built-in instrument with this id.

    Raises
    ------
    ConfigError
        When no built-in instrument has this id; the message lists the ones that exist.
    """
    try:
        return _builtin()[instrument_id]
    except KeyError:
        raise ConfigError(
            "unknown instrument",
            column="instrument",
            expected=f"one of {list_instruments()}",
            found=repr(instrument_id),
        ) from None
