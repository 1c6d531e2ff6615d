"""Describe a cell without showing it: messages and the ledger never carry a raw value.

An export cell can hold anything a student typed: an email address, a phone number, a name. An
error message goes to the terminal and to ``logs/``, the ledger's ``detail`` to
``ledger.parquet``, so neither may quote a cell. :func:`describe_value` says what kind of value
a cell holds instead (``'an email address'``, ``'a 10-digit number'``, ``'text of 23
characters (4 words)'``), which is enough to find and fix the cell in the file, since every
message also names the file, the row and the column.

A value is shown only when the caller knows it comes from a fixed answer key (the instrument's
response labels, the value labels of the file or the config, the configured group values):
those are passed as ``allowed``. :func:`redact_message` applies the same rule to the messages of
third-party readers (pyarrow, openpyxl, pyreadstat, pandas), which may quote a row or a cell.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import math
import re
from collections.abc import Collection
from decimal import Decimal

__all__ = ["describe_value", "label_values", "redact_message"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_EMAIL_IN = re.compile(r"[^@\s'\"<>()\[\],;]+@[^@\s'\"<>()\[\],;]+\.[A-Za-z]{2,}")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)\S+$", re.IGNORECASE)
_INTEGER = re.compile(r"^([+-]?)(\d+)$")
_DECIMAL = re.compile(r"^[+-]?(\d*)\.(\d+)$|^[+-]?(\d+)\.$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:[, ']\d{3})+(?:\.\d+)?$")
_EXPONENT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
_PERCENT = re.compile(r"^[+-]?\d+(?:[.,]\d+)?\s?%$")
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\S*$")
_DATE_PART = r"(?:\d{1,2}([./-])\d{1,2}\1(?:\d{2}|\d{4})|\d{4}([./])\d{1,2}\2\d{1,2})"
_OTHER_DATE = re.compile(rf"^{_DATE_PART}$")
_OTHER_DATETIME = re.compile(rf"^{_DATE_PART}[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}})?\S*$")
_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp][Mm])?$")
_COORDINATES = re.compile(r"^\(?[+-]?\d{1,3}\.\d+\s*[,; ]\s*[+-]?\d{1,3}\.\d+\)?$")
_NATIONAL_ID = re.compile(r"^\d{3}-\d{2}-\d{4}$|^\d{3} \d{2} \d{4}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?)\s*\d{1,5})?$", re.IGNORECASE)
_PHONE_IN = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().\-/]{5,}\d(?![\w.])")
_IPV4_IN = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
_LONG_NUMBER_IN = re.compile(r"\d{5,}")
_CODE = re.compile(r"^[^\W_][\w.-]*$")
_NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_NOT_A_NUMBER = {"nan", "+nan", "-nan"}
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_ROW_ECHO = re.compile(r"(\b(?:got|saw) \d+(?: (?:columns|fields))?):.*$")


def describe_value(value: object, *, allowed: Collection[str] | None = None) -> str:
    """What kind of value a cell holds, without showing it (unless it is ``allowed``).

    Parameters
    ----------
    value : object
        A cell: text as a reader gives it, or a number, date, None...
    allowed : collection of str, optional
        Values that are safe to show because they come from a fixed answer key, not from a
        respondent: the instrument's response labels, the value labels of the file or of the
        config, the configured group values. A value in ``allowed`` (exactly, or once stripped
        of surrounding white space) is shown quoted; any other value is described, followed by
        the ``allowed`` value it resembles when one does (case or spacing, or a close spelling).

    Returns
    -------
    str
        A description that never contains the value (for a value not ``allowed``): ``'an
        empty cell'``, ``'an email address'``, ``'a web address'``, ``'an IP address'``,
        ``'a phone number'``, ``'a number shaped like a national ID (###-##-####)'``, ``'a
        pair of map coordinates'``, ``'a 10-digit number'`` (5 digits or more: ids, phone
        numbers), ``'a number (3 digits)'``, ``'a negative number (1 digit)'``, ``'a
        decimal number'`` (with the digits before the point when there are 2 or more), ``'a
        number written with a comma'``, ``'a number in exponent notation'``, ``'an infinite
        number'``, ``'a NaN text (not a number)'``, ``'a percentage'``, ``'a date'``, ``'a
        date written ##/##/####'``, ``'a date and time'``, ``'a time'``, ``'a word of 7
        letters'``, ``'a code of 7 characters (letters and digits)'``, ``'text of 23
        characters (4 words)'`` (with the lines, capitalised words, and any email address,
        phone number, IP address or long number it contains), ``'a true/false value'``.

    Examples
    --------
    >>> describe_value("jane.doe@example.org")
    'an email address'
    >>> describe_value("(555) 123-4567"), describe_value("5551234567")
    ('a phone number', 'a 10-digit number')
    >>> describe_value("17"), describe_value("4.70"), describe_value("")
    ('a number (2 digits)', 'a decimal number', 'an empty cell')
    >>> describe_value("Sometimes maybe")
    'text of 15 characters (2 words)'
    >>> describe_value("Several days", allowed={"Not at all", "Several days"})
    "'Several days'"
    >>> describe_value("several  days", allowed={"Not at all", "Several days"})
    "text of 13 characters (2 words), like 'Several days' but for case or spacing"
    """
    text = _as_text(value)
    if allowed and text is not None:
        if text in allowed:
            return repr(text)
        if text.strip() in allowed:
            return repr(text.strip())
    description = _describe(value)
    if allowed and text is not None and text.strip():
        description += _resemblance(text, allowed)
    return description


def label_values(values, *, min_count: int = 10, limit: int = 20) -> str:
    """The distinct values of a column, for a message, without exposing anyone: a value is
    shown (with its count) only when it stands on ``min_count`` rows or more and looks like an
    answer label (at most 30 characters, no ``@``, no run of four digits); the others are
    counted, not shown.

    >>> label_values(["Yes"] * 12 + ["No"] * 10 + ["jane@x.org"])
    "'Yes' (12 rows), 'No' (10 rows) and 1 other value"
    """
    import pandas as pd

    counts = pd.Series(values, dtype=object).dropna().astype(str).str.strip()
    counts = counts[counts != ""].value_counts()
    shown = [
        f"{value!r} ({n} rows)"
        for value, n in counts.items()
        if n >= min_count and len(value) <= 30 and not re.search(r"@|\d{4,}", value)
    ][:limit]
    hidden = len(counts) - len(shown)
    text = ", ".join(shown) if shown else "no value on ten rows or more"
    if hidden and shown:
        text += f" and {hidden} other value{'s' if hidden > 1 else ''}"
    elif hidden:
        text += f" ({hidden} distinct value{'s' if hidden > 1 else ''})"
    return text


def redact_message(message: object, *, limit: int = 200) -> str:
    """A third-party reader's error message, on one line, without what could be a cell.

    pyarrow echoes the whole row it could not parse (``Expected 3 columns, got 2: <row>``);
    other libraries quote a value (``could not convert 'x'``). The echoed row is dropped,
    quoted text is replaced by its :func:`describe_value` description in brackets, and email
    addresses, IP addresses, phone numbers and long numbers left in the text likewise.

    Parameters
    ----------
    message : object
        The message (an exception is turned into its text).
    limit : int
        Longest result, in characters.

    Examples
    --------
    >>> redact_message("CSV parse error: Expected 3 columns, got 2: S100001,jane@example.org")
    'CSV parse error: Expected 3 columns, got 2'
    >>> redact_message("could not convert string to float: 'jane@example.org'")
    'could not convert string to float: [an email address]'
    """
    text = " ".join(str(message).split())
    text = _ROW_ECHO.sub(r"\1", text)

    def quoted(match: re.Match) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return f"[{describe_value(inner)}]"

    text = _QUOTED.sub(quoted, text)
    text = _EMAIL_IN.sub("[an email address]", text)
    text = _IPV4_IN.sub("[an IP address]", text)
    text = _LONG_NUMBER_IN.sub(lambda m: f"[{_describe_text(m.group(0))}]", text)
    text = _PHONE_IN.sub(lambda m: _phone_or_keep(m.group(0)), text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _phone_or_keep(candidate: str) -> str:
    digits = sum(c.isdigit() for c in candidate)
    return "[a phone number]" if 7 <= digits <= 15 else candidate


def _as_text(value: object) -> str | None:
    """The value as the text it would be in an export (for comparing with ``allowed``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return None


def _describe(value: object) -> str:
    if value is None or type(value).__name__ in ("NaTType", "NAType"):
        return "an empty cell"
    if isinstance(value, str):
        return _describe_text(value)
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):
        return "a true/false value"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    if isinstance(value, bytes | bytearray):
        return f"binary data of {len(value)} bytes"
    if isinstance(value, Decimal):
        if value.is_nan():
            return "an empty cell"
        if value.is_infinite():
            return "an infinite number"
        value = float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return _describe_text(str(int(value)))  # numpy integers too
    try:
        number = float(value)  # floats, numpy floats
    except (TypeError, ValueError):
        number = None
    if number is not None:
        if math.isnan(number):
            return "an empty cell"
        if math.isinf(number):
            return "an infinite number"
        if number.is_integer():
            return _describe_text(str(int(number)))
        return _describe_text(repr(number))
    try:
        if value != value:  # pd.NA, NaT and other missing markers
            return "an empty cell"
    except (TypeError, ValueError):
        return "an empty cell"  # pd.NA refuses to be compared as a bool
    return f"a value of type {type(value).__name__}"


def _describe_text(value: str) -> str:
    text = value.strip()
    if not text:
        return "an empty cell" if not value else f"only white space ({_count(value, 'character')})"
    folded = text.casefold()
    if _EMAIL.match(text):
        return "an email address"
    if _URL.match(text):
        return "a web address"
    if _is_ip(text):
        return "an IP address"
    if folded in _NON_FINITE:
        return "an infinite number"
    if folded in _NOT_A_NUMBER:
        return "a NaN text (not a number)"
    integer = _INTEGER.match(text)
    if integer:
        sign, digits = integer.groups()
        if len(digits) >= 5:
            negative = "negative " if sign == "-" else ""
            article = "an" if not negative and _vowel_sound(len(digits)) else "a"
            return f"{article} {negative}{len(digits)}-digit number"
        kind = "a negative number" if sign == "-" else "a number"
        return f"{kind} ({_count(digits, 'digit')})"
    decimal = _DECIMAL.match(text)
    if decimal:
        before = len(decimal.group(1) or decimal.group(3) or "")
        kind = "a negative decimal number" if text.startswith("-") else "a decimal number"
        return kind if before < 2 else f"{kind} ({before} digits before the point)"
    if _COORDINATES.match(text):
        return "a pair of map coordinates"
    if _DECIMAL_COMMA.match(text):
        return "a number written with a comma"
    if _THOUSANDS.match(text):
        return "a number with thousands separators"
    if _EXPONENT.match(text):
        return "a number in exponent notation"
    if _PERCENT.match(text):
        return "a percentage"
    if _NATIONAL_ID.match(text):
        return "a number shaped like a national ID (###-##-####)"
    if _ISO_DATE.match(text):
        return "a date"
    if _ISO_DATETIME.match(text) or _OTHER_DATETIME.match(text):
        return "a date and time"
    if _OTHER_DATE.match(text):
        return f"a date written {re.sub(r'[0-9]', '#', text)}"
    if _TIME.match(text):
        return "a time"
    if _PHONE.match(text) and 7 <= sum(c.isdigit() for c in text) <= 15:
        return "a phone number"
    return _describe_words(text)


def _describe_words(text: str) -> str:
    """Free text: its length, and its shape (words, lines, what kind of characters)."""
    n = len(text)
    words = text.split()
    if len(words) == 1:
        if text.isalpha():
            return f"a word of {_count(text, 'letter')}"
        if text.isalnum():
            if any(c.isdigit() for c in text):
                return f"a code of {n} characters (letters and digits)"
            return f"a word of {_count(text, 'character')}"
        if _CODE.match(text) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            marks = " and ".join(repr(m) for m in "_-." if m in text)
            return f"a code of {n} characters (letters, digits and {marks})"
        kinds = [
            kind
            for kind, present in (
                ("letters", any(c.isalpha() for c in text)),
                ("digits", any(c.isdigit() for c in text)),
                ("other characters", any(not c.isalnum() for c in text)),
            )
            if present
        ]
        shape = " and ".join(kinds) if len(kinds) < 3 else "letters, digits and other characters"
        return f"text of {_count(text, 'character')} ({shape})"
    details = [f"{len(words)} words"]
    lines = len(text.splitlines())
    if lines > 1:
        details.append(f"on {lines} lines")
    if 2 <= len(words) <= 4 and all(w[:1].isupper() and w[1:].islower() for w in words):
        details.append("each capitalised")
    inside = [
        kind
        for kind, pattern in (
            ("an email address", _EMAIL_IN),
            ("an IP address", _IPV4_IN),
        )
        if pattern.search(text)
    ]
    phone = _PHONE_IN.search(text)
    if phone and 7 <= sum(c.isdigit() for c in phone.group(0)) <= 15:
        inside.append("a phone number")
    elif _LONG_NUMBER_IN.search(text):
        inside.append("a long number")
    if inside:
        details.append("containing " + " and ".join(inside))
    return f"text of {_count(text, 'character')} ({', '.join(details)})"


def _resemblance(text: str, allowed: Collection[str]) -> str:
    """``", like 'X' ..."`` when the text resembles an allowed value (only X is shown)."""
    folded = " ".join(text.split()).casefold()
    by_form = {" ".join(a.split()).casefold(): a for a in sorted(allowed)}
    if folded in by_form:
        return f", like {by_form[folded]!r} but for case or spacing"
    close = difflib.get_close_matches(folded, list(by_form), n=1, cutoff=0.75)
    return f", similar to {by_form[close[0]]!r}" if close else ""


def _is_ip(text: str) -> bool:
    candidate = text.strip("[]")
    if ":" not in candidate and candidate.count(".") != 3:
        return False
    try:
        ipaddress.ip_address(candidate.split("%")[0])
    except ValueError:
        return False
    return True


def _vowel_sound(number: int) -> bool:
    """Whether "an" goes before the number read aloud (8, 11, 18, 80-89)."""
    return number in (8, 11, 18) or 80 <= number <= 89


def _count(text: str, unit: str) -> str:
    return f"{len(text)} {unit}{'' if len(text) == 1 else 's'}"
