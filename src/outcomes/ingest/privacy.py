"""Keep identifiers out of everything the pipeline writes.

Only the columns a cohort config maps (respondent id, group, cluster, covariates, items) go
forward, so an unmapped column can never leak. The respondent id itself is replaced by a keyed
pseudonym. :func:`classify_columns` names what was dropped and why, for the provenance record.

A mapped column is checked too, by name and by value. By name
(:func:`refuse_identifier_columns`): a group, cluster or covariate column whose name marks an
identifier (``StudentName``, ``Phone``, ``E-mail``, ``student_id``, the names of
:data:`DIRECT_IDENTIFIERS`) or free text (``Q9_TEXT``) is refused, unless the config declares
it safe with a reason. By value (:func:`refuse_identifying_values`): every cell of the group,
cluster and covariate columns - every mapped column but the items, whose answers must be in a
fixed key or a numeric range anyway - is looked at (on its distinct values, all rows), and an
email, web or IP address, phone or national-id number, map coordinates, a long id-like
number, a person's name or free text stops the run, naming the file, row and column, never
the value (:func:`identifying_kind` lists the shapes).
"""

from __future__ import annotations

import hmac
import math
import os
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.config import DEMO_KEY, Cohort
from outcomes.errors import ConfigError, ExportError
from outcomes.ingest.rawtable import RawTable

#: Export columns that identify a person directly (domain reference 4.1).
DIRECT_IDENTIFIERS = {
    "ipaddress",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "locationlatitude",
    "locationlongitude",
    "email address",
    "ip address",
    "first name",
    "last name",
    "redcap_survey_identifier",
    "name",  # Qualtrics legacy V3
    "custom data 1",  # SurveyMonkey: often holds a student id
    "recipientname",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def resolve_key(cohort: Cohort) -> bytes:
    """The secret key of the cohort's pseudonyms.

    ``pseudonym_key.demo: true`` gives the public demo key (simulated data only); otherwise
    ``file`` (first line of a key file) or the environment variable ``env``.

    Raises
    ------
    ConfigError
        When the key is not available, saying how to provide it.
    """
    spec = cohort.pseudonym_key
    if spec.get("demo"):
        return DEMO_KEY.encode()
    if spec.get("file"):
        path = Path(spec["file"]).expanduser()
        if not path.is_file():
            raise ConfigError(
                "pseudonym key file not found",
                file=cohort.path,
                column="pseudonym_key.file",
                expected="a file outside the repository holding the secret key",
                found=str(path),
            )
        repository = next((d for d in path.resolve().parents if (d / ".git").exists()), None)
        if repository is not None:
            raise ConfigError(
                "the pseudonym key file is inside a git repository",
                file=cohort.path,
                column="pseudonym_key.file",
                expected="a key file outside any repository, so it cannot be committed",
                found=f"{path} (inside {repository})",
            )
        lines = path.read_text(encoding="utf-8").splitlines()
        key = lines[0].strip() if lines else ""
    else:
        key = os.environ.get(spec.get("env", "OUTCOMES_PSEUDONYM_KEY"), "")
    if len(key) < 16:
        raise ConfigError(
            "no pseudonym key (or one shorter than 16 characters)",
            file=cohort.path,
            column="pseudonym_key",
            expected=f"a secret of 16+ characters in ${spec.get('env', 'OUTCOMES_PSEUDONYM_KEY')} "
            "or in the key file; the same key for every wave of the cohort",
            found="a key of length " + str(len(key)),
        )
    return key.encode()


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the pseudonym key: the first 16 hex digits of HMAC-SHA256(key, a fixed
    string). It tells two keys apart without revealing either (it is not a hash of any id),
    so each wave's Parquet metadata records it and the score stage refuses waves
    pseudonymized with different keys.

    >>> key_fingerprint(b"k" * 16) == key_fingerprint(b"k" * 16) != key_fingerprint(b"j" * 16)
    True
    """
    return hmac.new(key, b"outcomes: pseudonym key fingerprint v1", "sha256").hexdigest()[:16]


def pseudonymize(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed pseudonyms: the first 16 hex digits of HMAC-SHA256(key, id).

    The id is stripped of surrounding spaces first, so ``" S1"`` and ``"S1"`` link. Blank ids
    give None. 64 bits make a collision among a million ids about a 1 in 30 million event.
    """
    codes, uniques = pd.factorize(ids.astype(str).str.strip())
    texts = pd.Index(uniques).tolist()
    mac = hmac.digest
    per_unique = np.array(
        [mac(key, t.encode(), "sha256").hex()[:16] if t else None for t in texts], dtype=object
    )
    digests = per_unique[codes] if len(per_unique) else np.array([], dtype=object)
    return pd.Series(digests, index=ids.index, dtype=object)


def classify_columns(raw: RawTable, mapped: set[str]) -> dict[str, str]:
    """Class of every export column: ``mapped``, ``direct_identifier``, ``free_text`` or
    ``other``. Only ``mapped`` columns (other than the id, which is pseudonymized) are kept.

    A column is a direct identifier when its name is a known one (:data:`DIRECT_IDENTIFIERS`),
    when the file marks it (``raw.identifiers``: REDCap ``Identifier? = y``), or when most of
    its first 200 values look like email or IPv4 addresses. A column is free text when the
    export says so (a Qualtrics ``_TEXT`` id, a SurveyMonkey open-ended response) or when its
    answers read like prose (:func:`_looks_like_prose`)."""
    classes = {}
    for column in raw.values.columns:
        sample = raw.values[column].head(200)
        sample = sample[sample.ne("")]
        if (
            column.casefold() in DIRECT_IDENTIFIERS
            or column in raw.identifiers
            or (
                len(sample)
                and (sample.str.match(_EMAIL).mean() > 0.5 or sample.str.match(_IPV4).mean() > 0.5)
            )
        ):
            kind = "direct_identifier"
        elif column in mapped:
            kind = "mapped"
        elif (
            "TEXT" in str(raw.import_ids.get(column, ""))
            or column.upper().endswith("_TEXT")
            or column.endswith("| Open-Ended Response")
            or _looks_like_prose(sample)
        ):
            kind = "free_text"
        else:
            kind = "other"
        classes[column] = kind
    return classes


def refuse_mapped_identifiers(
    classes: dict[str, str], raw: RawTable, mapped: set[str], allowed: set[str], *,
    roles: dict[str, str] | None = None, safe: dict[str, str] | None = None,
    numeric: Collection[str] = (),
) -> None:  # fmt: skip
    """Stop when the config maps a direct identifier as a study variable. Only the respondent
    id (replaced by a pseudonym) and dates kept coarsened (``type: date``) are ``allowed``.

    Parameters
    ----------
    classes : dict
        :func:`classify_columns` of the export.
    raw : RawTable
    mapped, allowed : set of str
        The mapped columns, and those of them allowed although identifying.
    roles : dict, optional
        Export column -> config key of the group, cluster and covariate columns: these are
        also refused when their name marks an identifier or free text
        (:func:`refuse_identifier_columns`).
    safe : dict, optional
        Export column -> the reason the config declares it safe (``covariates.<name>.safe``):
        not refused. (:func:`outcomes.ingest.codebook.map_rows` applies the same rule with the
        config's declarations before any value is mapped.)
    numeric : collection of str, optional
        The columns of numeric covariates (see :func:`refuse_identifier_columns`).
    """
    safe = safe or {}
    if roles:
        roles = {c: k for c, k in roles.items() if c not in allowed}
        refuse_identifier_columns(raw, roles, safe, numeric=numeric)
    for column in sorted(mapped - allowed):
        if classes.get(column) == "direct_identifier" and column not in safe:
            raise ExportError(
                "the cohort config maps a direct identifier as a study variable",
                file=raw.path,
                column=column,
                expected="names, emails, phone numbers, IP addresses, coordinates and fields "
                "the export marks as identifiers stay out of the analysis",
                found=f"{column!r} mapped in the cohort config",
            )


def _looks_like_prose(sample: pd.Series) -> bool:
    """Most non-empty answers are sentences: 30+ characters on average with several words.
    Answer labels ("Some of the time", "More than half the days") are shorter."""
    if sample.empty:
        return False
    text = sample.astype(str)
    return bool(text.str.len().mean() >= 30 and (text.str.count(" ") >= 4).mean() > 0.5)


# --- Identifiers by name: columns a config maps as group, cluster or covariate ---------------

#: Words that make a column name a person's name, contact or id field (compared with the
#: name's words: ``StudentName`` -> student, name; ``e-mail`` -> email).
_PERSON_NAME_WORDS = frozenset(
    {"name", "names", "firstname", "lastname", "surname", "fullname", "forename", "givenname",
     "familyname", "middlename", "nickname", "initials"}
)  # fmt: skip
_CONTACT_WORDS = frozenset(
    {"email", "emails", "emailaddress", "phone", "phones", "telephone", "tel", "mobile",
     "cellphone", "fax", "address", "street", "ip", "ipaddress", "latitude", "longitude", "lat",
     "lng", "gps", "geolocation", "ssn", "passport"}
)  # fmt: skip
#: ``student id``, ``pupil number``, ``national id`` ...: an id-like word after one of these.
_WHOSE = frozenset({"student", "pupil", "learner", "person", "national", "social", "passport",
                    "recipient", "external", "user", "participant", "respondent"})  # fmt: skip
_ID_WORDS = frozenset({"id", "number", "no", "num", "nr", "ref", "reference", "security", "ssn"})
#: A "name" after one of these is not a person's name (``school_name``, ``program name``).
_NOT_A_PERSON = frozenset(
    {"school", "program", "programme", "site", "class", "course", "district", "campus", "group",
     "team", "organization", "organisation", "org", "center", "centre", "cohort", "city",
     "state", "country", "county", "section", "classroom", "unit", "branch", "file", "variable",
     "event", "survey", "instrument", "project", "study", "arm", "condition", "level", "grade",
     "wave", "form", "language", "subject", "track", "option", "category"}
)  # fmt: skip
_FREE_TEXT_WORDS = frozenset({"text", "comment", "comments", "notes", "note", "feedback",
                              "remarks", "freetext", "openended"})  # fmt: skip
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _name_words(column: str) -> list[str]:
    """The words of a column name, lower case: ``StudentName`` -> ``["student", "name"]``,
    ``Q9_TEXT`` -> ``["q", "9", "text"]``, ``E-mail`` -> ``["email"]``."""
    words = [w.casefold() for w in _NAME_WORD.findall(column)]
    joined = []
    for word in words:  # "e-mail", "e mail" -> "email"
        if joined and joined[-1] == "e" and word == "mail":
            joined[-1] = "email"
        else:
            joined.append(word)
    return joined


def identifier_name_kind(raw: RawTable, column: str) -> str | None:
    """What a column's name (or the file's metadata) says it holds: ``"an identifier"``,
    ``"free text"``, or None.

    An identifier: a name :func:`classify_columns` knows (:data:`DIRECT_IDENTIFIERS`), a
    column the file marks (REDCap ``Identifier? = y``), or a name with a word of a person's
    name (``StudentName``, ``first_name``; not ``school_name``), contact or location
    (``Phone``, ``E-mail``, ``IPAddress``, ``Latitude``) or an id of a person
    (``student_id``, ``StudentNumber``, ``SSN``). Free text: a Qualtrics ``_TEXT`` column
    (by name or ImportId), a SurveyMonkey open-ended response, or a name with ``comment``,
    ``notes``, ``feedback``, ``text``.
    """
    if column.casefold() in DIRECT_IDENTIFIERS or column in raw.identifiers:
        return "an identifier"
    words = _name_words(column)
    compact = "".join(words)
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in _PERSON_NAME_WORDS and before not in _NOT_A_PERSON:
            return "an identifier"
        if word in _CONTACT_WORDS or (word in _ID_WORDS and before in _WHOSE):
            return "an identifier"
    if compact in {"studentid", "studentnumber", "cellnumber", "phonenumber", "homeaddress"}:
        return "an identifier"
    if (
        "TEXT" in str(raw.import_ids.get(column, ""))
        or column.endswith("| Open-Ended Response")
        or any(w in _FREE_TEXT_WORDS for w in words)
    ):
        return "free text"
    return None


def refuse_identifier_columns(
    raw: RawTable, roles: dict[str, str], safe: dict[str, str] | None = None,
    numeric: Collection[str] = (),
) -> None:  # fmt: skip
    """Stop when a column mapped as group, cluster or covariate is by its name an identifier
    or free text (:func:`identifier_name_kind`), unless the config declares it safe.

    Parameters
    ----------
    raw : RawTable
    roles : dict
        Export column -> the config key that maps it (``covariates.gender.column``).
    safe : dict, optional
        Export column -> the reason the config gives for declaring it safe
        (``covariates.<name>.safe: "<reason>"``); such a column is accepted.
    numeric : collection of str
        Columns mapped as numeric covariates: the free-text rule does not apply to them (an
        age typed in a Qualtrics text box is a ``_TEXT`` column, and every cell of a numeric
        covariate must be a number anyway); the identifier rule does.
    """
    safe = safe or {}
    for column, key in roles.items():
        kind = identifier_name_kind(raw, column)
        if kind is None or column in safe or (kind == "free text" and column in numeric):
            continue
        owner = key.rsplit(".", 1)[0] if key.endswith(".column") else key
        raise ExportError(
            f"the cohort config maps a column that by its name holds {kind} ({key})",
            file=raw.path,
            column=column,
            expected="names, emails, phone numbers, ids, IP addresses, coordinates and free-text "
            "answers stay out of the analysis: map another column, or, if this one holds none "
            f'of these, declare it safe with the reason ({owner}.safe: "<why it is safe>")',
            found=f"{column!r} mapped as {key}",
        )


# --- Identifiers by value ---------------------------------------------------------------------

#: Smallest number of responses a category label needs to be kept as it is (the project's
#: default minimum cell size, ``min_cell_size`` in config/config.yaml).
MIN_LEVEL_COUNT = 10

_EMAIL_IN = re.compile(r"[^@\s'\"<>()\[\],;:]+@[^@\s'\"<>()\[\],;:]+\.[A-Za-z]{2,}")
_URL_IN = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S", re.IGNORECASE)
_IPV4_IN = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w.])")
_SSN_IN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])|^\d{3} \d{2} \d{4}$")
_PAIR_IN = re.compile(r"(?<![\d.])([+-]?\d{1,3}\.\d{3,})\s*[,; ]\s*([+-]?\d{1,3}\.\d{3,})(?![\d.])")
_PHONE_IN = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().\-/]{5,}\d(?![\w.])")
_DATE_START = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})")
_YEAR_RANGE = re.compile(r"^\d{4}\s*[-/]\s*\d{2,4}$")
_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
_DIGIT_RUN = re.compile(r"(?<!\d)\d{7,}(?!\d)")
_GEO_DECIMAL = re.compile(r"^[+-]?\d{1,3}\.\d{4,}$")
_NUMBER = re.compile(r"^[+-]?(\d+)(?:\.(\d*))?$")
_EXPONENT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
#: Words of category labels and of school names, never of a person's name: a value made of
#: capitalised words is not taken for a name when one of its words is one of these.
_LABEL_WORDS = frozenset(
    {"high", "school", "academy", "college", "university", "middle", "elementary", "primary",
     "secondary", "junior", "senior", "prep", "preparatory", "institute", "center", "centre",
     "campus", "charter", "magnet", "montessori", "district", "county", "city", "community",
     "public", "private", "catholic", "christian", "international", "st", "st.", "saint",
     "north", "south", "east", "west", "central", "upper", "lower", "new", "grade", "year",
     "class", "group", "team", "site", "program", "programme", "cohort", "section", "level",
     "other", "unknown", "prefer", "not", "to", "say", "self", "describe", "none", "no", "yes",
     "male", "female", "man", "woman", "boy", "girl", "non", "binary", "non-binary",
     "nonbinary", "trans", "transgender", "genderqueer", "agender", "questioning", "fluid",
     "and", "or", "of", "the", "a", "an", "in", "at", "for", "with", "on", "by", "from",
     "freshman", "sophomore", "ninth", "tenth", "eleventh", "twelfth", "first", "second",
     "third", "fourth", "fifth", "sixth", "seventh", "eighth", "english", "spanish"}
)  # fmt: skip
#: The kinds :func:`identifying_kind` reports from a heuristic (values of these shapes can be
#: innocent); a column declared ``safe`` is not checked for them.
HEURISTIC_KINDS = frozenset(
    {"a long number (a phone, student or ID number)", "a map coordinate", "a person's name",
     "free text"}
)  # fmt: skip


def identifying_kind(
    text: str, *, numeric: bool = False, rare: bool = True, person_names: bool = False,
    heuristics: bool = True,
) -> str | None:  # fmt: skip
    """The kind of identifier a cell's text holds, or None (the value itself is never
    returned or shown).

    Parameters
    ----------
    text : str
        The cell, as text.
    numeric : bool
        Whether the column is a numeric covariate.
    rare : bool
        Whether the value stands on fewer rows than the minimum cell size: the heuristic
        shapes (a long digit run in a text column, one geo-like decimal, free text, a
        person's name) are only looked for in rare values, since a value shared by ten
        students or more is a category label, not one student's identifier.
    person_names : bool
        Look for person names (categorical covariates and the cluster, in a column that
        otherwise holds a few common labels).
    heuristics : bool
        False for a column the config declares safe: only the unambiguous shapes are looked
        for.

    Returns
    -------
    str or None
        Always looked for, in every mapped column but the items, whatever its count:

        - ``"an email address"``: ``x@y.tld`` anywhere in the text;
        - ``"a web address"``: ``scheme://`` or ``www.`` anywhere;
        - ``"an IP address"``: IPv4 (four numbers up to 255 joined by dots) anywhere, or an
          IPv6 address as a word of the text;
        - ``"a national ID number (###-##-####)"``: the US SSN shape ``123-45-6789`` (or
          ``123 45 6789`` alone);
        - ``"a pair of map coordinates"``: two decimals with 3+ decimal places within
          latitude/longitude bounds (``40.7128, -74.0060``);
        - ``"a phone number"``: 7 to 15 digits written with separators (spaces, dots, dashes,
          slashes, parentheses) or after a ``+``: ``(555) 123-4567``, ``+44 20 7946 0958``,
          ``555.123.4567`` - not a date, a year range (``2024-2025``) or a decimal number.

        Heuristics (skipped when ``heuristics`` is False):

        - ``"a long number (a phone, student or ID number)"``: in a numeric column, a whole
          number of 7 or more digits (1,000,000 or more, or written with leading zeros; a
          grade level, an age or a test score never is); in a text column, a run of 7 or
          more digits in a rare value;
        - ``"a map coordinate"``: in a text column, a rare value that is one decimal with 4+
          decimal places (``40.71280``);
        - ``"free text"``: a rare text value of 5+ words and 30+ characters, or on several
          lines;
        - ``"a person's name"`` (with ``person_names``): a rare value of two to four
          capitalised words (``Jane Doe``, ``Mary-Jane O'Brien``, ``Doe, Jane``; a middle
          initial allowed), none of them a word of labels or school names
          (:data:`_LABEL_WORDS`: ``High``, ``Academy``, ``Prefer``, ``Not`` ...).
          Conservative by design: a single given name or a name in lower case is not caught
          (such a rare value is recoded anyway and never stored).

    Examples
    --------
    >>> identifying_kind("jane.doe@example.org"), identifying_kind("(555) 123-4567")
    ('an email address', 'a phone number')
    >>> identifying_kind("10", numeric=True), identifying_kind("5551234567", numeric=True)
    (None, 'a long number (a phone, student or ID number)')
    >>> identifying_kind("Jane Doe", person_names=True), identifying_kind("Eastgate High",
    ...                                                                   person_names=True)
    ("a person's name", None)
    """
    text = text.strip()
    if not text:
        return None
    has_digit = any(c.isdigit() for c in text)
    if "@" in text and _EMAIL_IN.search(text):
        return "an email address"
    if ("://" in text or "www." in text.casefold()) and _URL_IN.search(text):
        return "a web address"
    if has_digit and text.count(".") >= 3 and _has_ipv4(text):
        return "an IP address"
    if text.count(":") >= 2 and _has_ipv6(text):
        return "an IP address"
    if has_digit:
        if ("-" in text or " " in text) and _SSN_IN.search(text):
            return "a national ID number (###-##-####)"
        if "." in text and _has_coordinate_pair(text):
            return "a pair of map coordinates"
        if _has_phone(text):
            return "a phone number"
    if not heuristics:
        return None
    if numeric:
        return "a long number (a phone, student or ID number)" if _long_whole(text) else None
    if not rare:
        return None
    if has_digit and _DIGIT_RUN.search(text):
        return "a long number (a phone, student or ID number)"
    if has_digit and _GEO_DECIMAL.match(text) and abs(float(text)) <= 180:
        return "a map coordinate"
    words = text.split()
    if "\n" in text or (len(words) >= 5 and len(text) >= 30):
        return "free text"
    if person_names and _looks_like_person_name(words):
        return "a person's name"
    return None


def _has_ipv4(text: str) -> bool:
    return any(all(int(part) <= 255 for part in m.groups()) for m in _IPV4_IN.finditer(text))


def _has_ipv6(text: str) -> bool:
    import ipaddress

    for word in text.split():
        word = word.strip("[](),;")
        if word.count(":") >= 2:
            try:
                ipaddress.IPv6Address(word.split("%")[0])
            except ValueError:
                continue
            return True
    return False


def _has_coordinate_pair(text: str) -> bool:
    for match in _PAIR_IN.finditer(text):
        a, b = (abs(float(x)) for x in match.groups())
        if (a <= 90 and b <= 180) or (a <= 180 and b <= 90):
            return True
    return False


def _has_phone(text: str) -> bool:
    for match in _PHONE_IN.finditer(text):
        candidate = match.group(0)
        digits = sum(c.isdigit() for c in candidate)
        bare = candidate.strip("() ")
        separated = candidate.startswith("+") or any(not c.isdigit() for c in bare)
        if (
            7 <= digits <= 15
            and separated
            and not _DATE_START.match(bare)
            and not _YEAR_RANGE.match(bare)
            and not _DECIMAL.match(bare)
        ):
            return True
    return False


def _long_whole(text: str) -> bool:
    """A whole number of 7+ digits (or 1e6 or more in exponent notation)."""
    number = _NUMBER.match(text)
    if number:
        return len(number.group(1)) >= 7 and not (number.group(2) or "").strip("0")
    if _EXPONENT.match(text):
        value = float(text)
        return math.isfinite(value) and value.is_integer() and abs(value) >= 1e6
    return False


def _looks_like_person_name(words: list[str]) -> bool:
    words = [w.rstrip(",") for w in words]
    if not 2 <= len(words) <= 4:
        return False
    names = 0
    for word in words:
        if len(word.rstrip(".")) == 1 and word[:1].isupper():  # a middle initial
            continue
        core = word.replace("-", "").replace("'", "").replace("\u2019", "")
        if (
            not core.isalpha()
            or not word[:1].isupper()
            or not any(c.islower() for c in word)
            or word.casefold() in _LABEL_WORDS
            or any(part.casefold() in _LABEL_WORDS for part in word.split("-"))
        ):
            return False
        names += 1
    return names >= 2


def identifying_cells(
    cells: pd.Series, *, numeric: bool = False, person_names: bool = False,
    heuristics: bool = True, allowed: Collection[str] = (),
    min_level_count: int = MIN_LEVEL_COUNT,
) -> pd.Series:  # fmt: skip
    """The kind of identifier of every distinct value of a column (None for a clean one).

    Works on the distinct values (the categories of a :func:`outcomes.ingest.codebook.labelled`
    column), so a million rows cost what their few distinct answers cost.

    Parameters
    ----------
    cells : Series
        Categorical (as :func:`~outcomes.ingest.codebook.labelled` gives), or any Series of
        text (factorized here).
    numeric, person_names, heuristics
        As for :func:`identifying_kind`. Person names are looked for only when the column
        otherwise holds a few common labels: values on ``min_level_count`` rows or more
        make up at least half of its non-blank rows.
    allowed : collection of str
        Values from a fixed key (declared levels, the group values, value labels): not
        checked.
    min_level_count : int
        A value on fewer rows is rare (see ``rare`` in :func:`identifying_kind`).

    Returns
    -------
    Series
        Aligned with ``cells.cat.categories``: the kind, or None.
    """
    if not isinstance(cells.dtype, pd.CategoricalDtype):
        cells = cells.astype(object).fillna("").astype(str).astype("category")
    categories = pd.Index(cells.cat.categories, dtype=object)
    counts = np.bincount(cells.cat.codes.to_numpy()[cells.cat.codes.to_numpy() >= 0],
                         minlength=len(categories))  # fmt: skip
    texts = [str(c) for c in categories]
    blank = np.array([not t.strip() for t in texts], dtype=bool)
    common = (counts >= min_level_count) & ~blank
    filled = counts[~blank].sum()
    names = person_names and filled > 0 and counts[common].sum() >= 0.5 * filled
    allowed = set(allowed)
    kinds = [
        None
        if b or t in allowed or t.strip() in allowed
        else identifying_kind(
            t, numeric=numeric, rare=not c, person_names=names, heuristics=heuristics
        )
        for t, b, c in zip(texts, blank, common, strict=True)
    ]
    return pd.Series(kinds, dtype=object)


def refuse_identifying_values(
    raw: RawTable, cells: pd.Series, key: str, *, numeric: bool = False,
    person_names: bool = False, safe: bool = False, allowed: Collection[str] = (),
    min_level_count: int = MIN_LEVEL_COUNT,
) -> None:  # fmt: skip
    """Stop at the first row (in file order) whose cell holds an identifier
    (:func:`identifying_cells`), naming the file line, the column and the kind of value,
    never the value (:func:`outcomes.redact.describe_value`).

    ``key`` is the config key that maps the column (``covariates.gender.column``); ``safe``
    (the config declares the column safe) skips the heuristics.
    """
    from outcomes.redact import describe_value

    kinds = identifying_cells(
        cells, numeric=numeric, person_names=person_names, heuristics=not safe,
        allowed=allowed, min_level_count=min_level_count,
    )  # fmt: skip
    flagged = kinds.notna().to_numpy()
    if not flagged.any():
        return
    codes = cells.cat.codes.to_numpy()
    position = int(np.flatnonzero(flagged[codes] & (codes >= 0))[0])
    kind = kinds.iloc[codes[position]]
    owner = key.rsplit(".", 1)[0] if key.endswith(".column") else key
    expected = (
        "answer labels or numbers, never what identifies a student (emails, phone numbers, "
        "ids, IP or web addresses, coordinates, names, free text): remove it from the export"
    )
    if kind in HEURISTIC_KINDS:
        expected += (
            f"; if such values are not identifying here, list the column's levels "
            f"({owner}.levels) or declare it safe with the reason ({owner}.safe)"
        )
    raise ExportError(
        f"a value that looks like {kind} in a column the cohort config maps ({key})",
        file=raw.path,
        row=raw.line_of(cells.index[position]),
        column=str(cells.name),
        expected=expected,
        found=describe_value(str(cells.iloc[position])),
    )
