"""Scoring standard instruments: definitions as data, scores, reliability."""

from outcomes.instruments.registry import Instrument, get_instrument, list_instruments
from outcomes.instruments.reliability import cronbach_alpha
from outcomes.instruments.scoring import score_instrument

__all__ = ["Instrument", "cronbach_alpha", "get_instrument", "list_instruments", "score_instrument"]
