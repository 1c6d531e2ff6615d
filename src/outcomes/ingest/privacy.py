"""Keep identifiers out of everything the pipeline writes.

Only the columns a cohort config maps (respondent id, group, cluster, covariates, items) go
forward, so an unmapped column can never leak. The respondent id itself is replaced by a keyed
pseudonym. :func:`classify_columns` names what was dropped and why, for the provenance record.
"""

from __future__ import annotations

import hmac
import os
import re
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


def refuse_mapped_identifiers(classes: dict[str, str], raw: RawTable, mapped: set[str],
                              allowed: set[str]) -> None:  # fmt: skip
    """Stop when the config maps a direct identifier as a study variable. Only the respondent
    id (replaced by a pseudonym) and dates kept coarsened (``type: date``) are ``allowed``."""
    for column in sorted(mapped - allowed):
        if classes.get(column) == "direct_identifier":
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
