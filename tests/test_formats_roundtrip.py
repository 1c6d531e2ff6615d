"""Acceptance: the same small cohort exported in each format yields identical Parquet tables.

One simulated baseline export (``simulate_cohort(80, seed=31, mess=False)``, a few answers left
blank, see :data:`tests.formats.BLANKS`) is written by the eleven writers of
:mod:`tests.formats` -- Qualtrics current CSV (the reference), Qualtrics UTF-16 TSV, Qualtrics
legacy, Qualtrics numeric values, SurveyMonkey, REDCap raw and label exports with their data
dictionary, SPSS, Excel, plain CSV and Parquet -- and each file is ingested with the demo cohort
config (tests/conftest.py ``demo_cohort_dict``) holding that single source, with the exclusions
on Progress and Duration switched off (most formats have no such columns).

Expected values come from the simulated frame itself (the reference is checked against it),
from the domain reference Part 1 (``/work/shared/reference/domain.md``: which columns each tool
writes and which are direct identifiers) and from the writers (what they put in each file).

The two tests at the end guard problems found on the way: header rows longer than the first
read when sniffing the format, and HTML inside REDCap choice labels.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from outcomes.config import DEMO_KEY, cohort_from_dict
from outcomes.ingest import ingest_wave, read_export
from outcomes.ingest.detect import sniff_format
from outcomes.instruments import get_instrument
from outcomes.simulate import DEMO_SCALES, qualtrics_csv_text
from outcomes.tables import file_sha256, read_metadata

from . import formats
from .conftest import demo_cohort_dict

NAMES = [w.__name__.removeprefix("write_") for w in formats.WRITERS]
REFERENCE = "qualtrics_csv"

#: Direct identifiers of the current Qualtrics exporter (domain reference 1.1.2, privacy class
#: "direct"): they are in the current CSV/TSV, the numeric export, the .sav file and the
#: choice-text tables re-saved as .xlsx, CSV and Parquet (tests/formats.py keeps every column).
QUALTRICS_DIRECT = [
    "ExternalReference", "IPAddress", "LocationLatitude", "LocationLongitude", "RecipientEmail",
    "RecipientFirstName", "RecipientLastName",
]  # fmt: skip
#: Direct identifiers of the legacy layout: V3 Name, V4 ExternalDataReference, V5 EmailAddress,
#: V6 IPAddress (domain reference 1.1.1; the reader gives them their current names) and the
#: location columns (1.1.2). The legacy layout has no recipient first/last name columns.
LEGACY_DIRECT = [
    "ExternalReference", "IPAddress", "LocationLatitude", "LocationLongitude", "Name",
    "RecipientEmail",
]  # fmt: skip
#: Per writer: the format ``sniff_format`` must find (domain reference 1.5, step 1, and the
#: extension rules of ``sniff_format``), the ``format`` of the RawTable its reader returns, and
#: the columns reported as dropped direct identifiers (named as after the source's ``rename``).
EXPECTED = {
    "qualtrics_csv": ("qualtrics", "qualtrics", QUALTRICS_DIRECT),
    "qualtrics_tsv_utf16": ("qualtrics", "qualtrics", QUALTRICS_DIRECT),
    "qualtrics_legacy": ("qualtrics", "qualtrics", LEGACY_DIRECT),
    "qualtrics_numeric": ("qualtrics", "qualtrics", QUALTRICS_DIRECT),
    # the metadata columns of domain reference 1.2: IP, email, names, and Custom Data 1 (the
    # student id, renamed ExternalReference by the source's rename)
    "surveymonkey": (
        "surveymonkey",
        "surveymonkey",
        ["Email Address", "ExternalReference", "First Name", "IP Address", "Last Name"],
    ),
    # fields marked "Identifier? = y" in the dictionary the writer wrote (first_name,
    # last_name, email), redcap_survey_identifier (domain reference 1.3.2) and record_id, the
    # student id, renamed ExternalReference
    "redcap_raw": (
        "redcap",
        "redcap",
        ["ExternalReference", "email", "first_name", "last_name", "redcap_survey_identifier"],
    ),
    "redcap_labels": (
        "redcap",
        "redcap",
        ["ExternalReference", "email", "first_name", "last_name", "redcap_survey_identifier"],
    ),
    "spss": ("spss", "spss", QUALTRICS_DIRECT),
    "xlsx": ("xlsx", "xlsx", QUALTRICS_DIRECT),
    "csv": ("csv", "csv", QUALTRICS_DIRECT),
    "parquet": ("parquet", "parquet", QUALTRICS_DIRECT),
}


def cohort_config(entry: dict) -> dict:
    """The demo cohort config with ``entry`` as its single (baseline) source, and no Progress or
    Duration exclusion (the legacy, SurveyMonkey, REDCap and plain-table files have neither)."""
    raw = demo_cohort_dict(Path(entry["path"]).parent)
    raw["sources"] = [{**entry, "wave": "baseline"}]
    raw["exclude"] = {**raw["exclude"], "min_progress": 0, "min_duration_s": 0}
    return raw


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return formats.cohort_frame()


@pytest.fixture(scope="module")
def exported(frame, tmp_path_factory) -> dict[str, dict]:
    """Writer name -> the source entry it returned (each file in its own folder)."""
    entries = {}
    for name, writer in zip(NAMES, formats.WRITERS, strict=True):
        entries[name] = writer(frame, tmp_path_factory.mktemp(name))
    return entries


@pytest.fixture(scope="module")
def ingested(exported, tmp_path_factory) -> dict[str, tuple]:
    """Writer name -> (cohort, IngestResult, responses.parquet, ledger.parquet), each file
    ingested with the format its writer gives."""
    results = {}
    for name, entry in exported.items():
        cohort = cohort_from_dict(cohort_config(entry))
        out = tmp_path_factory.mktemp(f"{name}_interim")
        paths = out / "responses.parquet", out / "ledger.parquet"
        results[name] = (cohort, ingest_wave(cohort, "baseline", *paths), *paths)
    return results


def pseudonym(student_id: str) -> str:
    """HMAC-SHA256 of the id under the public demo key, first 16 hex digits (README "Nothing is
    leaked"; ``outcomes.ingest.privacy.pseudonymize``)."""
    return hmac.new(DEMO_KEY.encode(), student_id.encode(), hashlib.sha256).hexdigest()[:16]


def expected_responses(frame: pd.DataFrame) -> pd.DataFrame:
    """The responses table computed straight from the simulated frame: one row per student,
    items valued by the instruments' keys (config/README.md: "Items are mapped from their
    answer labels through the instrument's key"), blank cells missing, sorted by pseudonym."""
    outcome_names = {tag: name for name, (_i, tag) in DEMO_SCALES.items()}

    def number(cells):
        return [float(v) if v else np.nan for v in cells]

    # Rare categories (outcomes.ingest.codebook.map_rows; issue 9: identifiers by value): a
    # gender level on fewer than 10 responses becomes "other"; a school with fewer than 10
    # students keeps them together, its name replaced by cluster_ + 10 hex digits of SHA-256.
    def rare(cells):
        counts = cells[cells.ne("")].value_counts()
        return cells.isin(counts.index[counts < 10])

    def code(school):
        digest = hashlib.sha256(b"outcomes: cluster label v1\x00" + school.encode())
        return f"cluster_{digest.hexdigest()[:10]}"

    schools = frame["school"].where(~rare(frame["school"]), frame["school"].map(code))
    genders = frame["gender"].where(~rare(frame["gender"]), "other")
    data = {
        "respondent_id": [pseudonym(v) for v in frame["ExternalReference"]],
        "wave": "baseline",
        "group": np.where(frame["mentoring"].eq("Yes"), "participant", "comparison"),
        "cluster": schools.to_numpy(dtype=object),
        "gender": np.array([v or None for v in genders], dtype=object),
        "grade_level": number(frame["grade_level"]),
    }
    for column, instrument_id, item in formats.scale_items():
        key = get_instrument(instrument_id).responses
        name = outcome_names[column.split("_")[0]]
        data[f"{name}_{item}"] = [key[v] if v else np.nan for v in frame[column]]
    data["gpa"] = number(frame["gpa"])
    expected = pd.DataFrame(data).sort_values("respondent_id", kind="stable")
    return expected.reset_index(drop=True)


def test_reference_is_the_simulated_cohort(frame, ingested):
    # source: the simulated frame (labels -> values by the instrument YAML keys); the reference
    # export is the simulator's own writer (outcomes.simulate.qualtrics_csv_text)
    _cohort, result, *_ = ingested[REFERENCE]
    expected = expected_responses(frame)
    assert list(result.responses.columns) == list(expected.columns)
    text = ["respondent_id", "wave", "group", "cluster", "gender"]
    numeric = [c for c in expected.columns if c not in text]
    pd.testing.assert_frame_equal(result.responses[numeric], expected[numeric])
    for column in text:  # values only: a missing text is None or NaN, by the column's dtype
        got = result.responses[column].astype(object)
        want = expected[column].astype(object)
        assert got.where(got.notna(), None).tolist() == want.where(want.notna(), None).tolist()
    assert (result.responses[numeric].dtypes == np.float64).all()
    # source: tests/formats.py BLANKS, 5 cells left blank in the frame: 4 numeric (Q3_4, gpa,
    # grade_level, Q5_2) and gender
    assert int(result.responses[numeric].isna().sum().sum()) == 4
    assert int(result.responses["gender"].isna().sum()) == 1
    assert len(result.responses) == formats.N_STUDENTS


@pytest.mark.parametrize("name", NAMES)
def test_each_format_ingests_to_the_reference(name, ingested):
    # source: the reference ingestion (Qualtrics current CSV), checked above against the frame
    _cohort, result, *_ = ingested[name]
    pd.testing.assert_frame_equal(result.responses, ingested[REFERENCE][1].responses)


@pytest.mark.parametrize("name", NAMES)
def test_ledger_has_every_row_analysed(name, frame, exported, ingested):
    # source: the writers put the frame's 80 rows in its order; mess=False leaves nothing to
    # exclude (no previews, duplicates, missing ids; every mentoring value is Yes or No)
    _cohort, result, *_ = ingested[name]
    ledger = result.ledger
    assert len(ledger) == len(frame) == formats.N_STUDENTS
    assert ledger["source"].eq(Path(exported[name]["path"]).name).all()
    assert ledger["row_number"].tolist() == list(range(1, len(frame) + 1))
    assert ledger["disposition"].eq("analysed").all()
    assert ledger["respondent_id"].tolist() == [pseudonym(v) for v in frame["ExternalReference"]]
    (record,) = result.sources
    n = formats.N_STUDENTS
    assert (record["rows_in_file"], record["rows_read"], record["rows_kept"]) == (n, n, n)
    assert record["rows_excluded"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_direct_identifiers_are_dropped(name, ingested):
    # source: EXPECTED (domain reference 1.1.1, 1.1.2, 1.2, 1.3.2 and the REDCap dictionary)
    _cohort, result, *_ = ingested[name]
    (record,) = result.sources
    assert record["dropped_columns"]["direct_identifier"] == EXPECTED[name][2]
    assert record["format"] == EXPECTED[name][1]
    kept = set(result.responses.columns)
    assert not kept & set(EXPECTED[name][2])


@pytest.mark.parametrize("name", NAMES)
def test_format_is_sniffed_and_auto_ingests_the_same(name, exported, ingested):
    # source: EXPECTED sniffed formats; the reference ingestion
    entry = exported[name]
    assert entry["format"] == EXPECTED[name][0]
    assert sniff_format(entry["path"]) == EXPECTED[name][0]
    cohort = cohort_from_dict(cohort_config({**entry, "format": "auto"}))
    result = ingest_wave(cohort, "baseline")
    pd.testing.assert_frame_equal(result.responses, ingested[REFERENCE][1].responses)
    assert result.sources[0]["dropped_columns"] == ingested[name][1].sources[0]["dropped_columns"]


@pytest.mark.parametrize("name", NAMES)
def test_parquet_files_are_identical(name, exported, ingested):
    # source: the reference's Parquet files; the metadata differs only where the source does
    cohort, result, responses_path, ledger_path = ingested[name]
    *_, ref_responses, ref_ledger = ingested[REFERENCE]
    table = pq.read_table(responses_path)
    assert table.replace_schema_metadata(None).equals(
        pq.read_table(ref_responses).replace_schema_metadata(None)
    )
    ledger = pq.read_table(ledger_path)
    file_name = Path(exported[name]["path"]).name
    assert set(ledger.column("source").to_pylist()) == {file_name}
    assert (
        ledger.drop_columns("source")
        .replace_schema_metadata(None)
        .equals(pq.read_table(ref_ledger).drop_columns("source").replace_schema_metadata(None))
    )
    for path, ref_path in ((responses_path, ref_responses), (ledger_path, ref_ledger)):
        meta, ref_meta = read_metadata(path), read_metadata(ref_path)
        assert meta.keys() == ref_meta.keys() == {"version", "wave", "config_hash", "sources",
                                                  "key_fingerprint"}  # fmt: skip
        assert meta["key_fingerprint"] == ref_meta["key_fingerprint"]  # one key, every format
        assert (meta["version"], meta["wave"]) == (ref_meta["version"], "baseline")
        # the config hash is that of this cohort config, whose source entry differs
        assert meta["config_hash"] == cohort.config_hash
        (source,) = meta["sources"]
        assert source["file"] == file_name
        assert source["sha256"] == file_sha256(exported[name]["path"])
        assert source["format"] == EXPECTED[name][1]
        assert source["dropped_columns"] == result.sources[0]["dropped_columns"]
        varying = {"file", "sha256", "format", "dropped_columns"}
        same = {k: v for k, v in source.items() if k not in varying}
        assert same == {k: v for k, v in ref_meta["sources"][0].items() if k not in varying}


def test_parquet_files_of_all_formats_hold_the_same_rows(ingested):
    # source: the reference's responses.parquet; one comparison across all eleven formats
    tables = {n: pq.read_table(ingested[n][2]).to_pandas() for n in NAMES}
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, tables[REFERENCE], obj=name)


def test_numeric_export_codes_are_not_the_scores(frame, exported):
    # source: tests/formats.py RECODES and the instrument keys; guards that the fixture really
    # tests the mapping of codes through labels (domain reference 1.1.4: recodes are not the
    # instrument's scoring and may have gaps)
    values = read_export(exported["qualtrics_numeric"]["path"]).values
    for column, instrument_id, _item in formats.scale_items():
        key = get_instrument(instrument_id).responses
        recode = dict(zip(key, formats.RECODES[instrument_id], strict=True))
        assert values[column].tolist() == [str(recode[v]) if v else "" for v in frame[column]]
        scores = [str(int(key[v])) if v else "" for v in frame[column]]
        assert values[column].ne(scores).any(), f"{column}: every code equals its score"
    assert set(values["Finished"]) == {"1"}
    assert set(values["Status"]) == {"0"}


def test_sniff_finds_qualtrics_with_long_header_rows(frame, tmp_path):
    # source: a current-layout export (qualtrics_csv_text) with 450 more columns of long
    # question text, so that rows 1 and 2 take more than 64 KiB
    wide = frame.copy()
    texts, ids = list(frame.attrs["question_text"]), list(frame.attrs["import_ids"])
    for k in range(450):
        wide[f"Q9_{k}"] = "Agree"
        texts.append(f"How much do you agree with this statement about your school? - {k} " * 2)
        ids.append(f"QID9_{k}")
    wide.attrs.update(question_text=texts, import_ids=ids)
    path = tmp_path / "wide.csv"
    path.write_bytes(qualtrics_csv_text(wide).encode("utf-8"))
    assert path.read_bytes().find(b"\n", path.read_bytes().find(b"\n") + 1) > 64 * 1024
    assert sniff_format(path) == "qualtrics"


def test_redcap_choice_labels_with_html_map_like_plain_ones(frame, ingested, tmp_path):
    # source: REDCap choice labels may hold HTML (REDCapTidieR PR #73 strips HTML "from all
    # field labels and option labels"); the visible text of "<b>Not at all</b>" is the PHQ-9
    # key's "Not at all", so the responses are the reference's
    entry = formats.write_redcap_raw(frame, tmp_path)
    dictionary = Path(entry["dictionary"])
    with open(dictionary, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        if row[0].startswith("phq_"):  # field name, then column 6: the choices
            row[5] = row[5].replace("Not at all", "<b>Not at all</b>")
    with open(dictionary, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    result = ingest_wave(cohort_from_dict(cohort_config(entry)), "baseline")
    pd.testing.assert_frame_equal(result.responses, ingested[REFERENCE][1].responses)


@pytest.mark.parametrize("name", NAMES)
def test_no_identifier_value_reaches_the_parquet_files(name, exported, ingested):
    """Every value of every identifying column of the export as written (names, emails, IPs,
    coordinates, ids, free text) is searched for in both Parquet files; none may appear."""
    from outcomes.ingest.privacy import classify_columns

    from .conftest import assert_no_identifiers

    cohort, _result, responses_path, ledger_path = ingested[name]
    raw = read_export(cohort.sources[0])
    classes = classify_columns(raw, set())
    identifying = [c for c, k in classes.items() if k in ("direct_identifier", "free_text")]
    values = {v.strip() for c in identifying for v in raw.values[c] if v.strip()}
    assert len(values) >= 80  # at least the 80 student ids
    assert_no_identifiers([responses_path, ledger_path], values)
