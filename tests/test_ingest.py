"""Ingest: the Qualtrics reader, exclusions, the ledger, pseudonyms and clear errors."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyarrow.parquet as pq
import pytest

from outcomes.config import cohort_from_dict
from outcomes.errors import ExportError, OutcomesError
from outcomes.ingest import ingest_wave
from outcomes.ingest.privacy import pseudonymize
from outcomes.ingest.qualtrics import read_qualtrics
from outcomes.tables import read_metadata

from .conftest import ROOT, SAMPLES, demo_cohort_dict


def test_reads_the_real_qualtrics_sample():
    # ropensci/qualtRics inst/extdata/sample.csv: 3 header rows, 20 columns, one response.
    raw = read_qualtrics(SAMPLES / "qualtrics/sample.csv")
    assert raw.values.shape == (1, 20)
    assert raw.header_rows == 3
    assert raw.import_ids["ResponseId"] == "_recordId"
    assert raw.import_ids["Q1"] == "QID1"
    assert raw.question_text["Q1"] == "This is a multiple choice question."
    assert raw.question_text["IPAddress"] == "IP-Adresse"


def test_non_qualtrics_layout_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,score\nsome text,1\n2,3\n")
    with pytest.raises(ExportError) as info:
        read_qualtrics(path)
    message = str(info.value)
    assert "other.csv" in message and "row 3" in message and "ImportId" in message


def test_ledger_accounts_for_every_row(small_simulation):
    simulated, cohort, _ = small_simulation
    for wave in cohort.waves:
        result = ingest_wave(cohort, wave)
        n_rows = len(simulated.exports[wave])
        ledger = result.ledger
        assert len(ledger) == n_rows
        assert ledger["row_number"].tolist() == list(range(1, n_rows + 1))
        kept = (ledger["disposition"] == "analysed").sum()
        assert kept == len(result.responses)
        assert kept + (ledger["disposition"] != "analysed").sum() == n_rows
        # The generator adds exactly 3 previews and 2 test responses per wave.
        counts = ledger["disposition"].value_counts()
        assert counts["preview"] == 3 and counts["test"] == 2


def test_exclusion_reasons_match_the_raw_export(small_simulation):
    simulated, cohort, _ = small_simulation
    frame = simulated.exports["baseline"]
    ledger = ingest_wave(cohort, "baseline").ledger.set_index("row_number")
    rows = frame.set_index(pd.RangeIndex(1, len(frame) + 1))
    reason = ledger["disposition"]
    real = rows["Status"].eq("IP Address")
    blank_id = rows["ExternalReference"].eq("")
    progress = pd.to_numeric(rows["Progress"])
    duration = pd.to_numeric(rows["Duration (in seconds)"])
    assert (reason[real & blank_id] == "missing_id").all()
    assert (reason[real & ~blank_id & (progress < 80)] == "below_min_progress").all()
    assert (reason[real & ~blank_id & (progress >= 80) & (duration < 90)] == "speeder").all()
    # Every kept response is unique per student; duplicates keep the last finished one.
    kept = rows[reason == "analysed"]
    assert not kept["ExternalReference"].duplicated().any()
    dup_ids = rows.loc[reason == "duplicate", "ExternalReference"]
    for student in dup_ids:
        mine = rows[(rows["ExternalReference"] == student) & (reason == "analysed")]
        assert len(mine) == 1 and mine["Finished"].iloc[0] == "True"
        later = rows[
            (rows["ExternalReference"] == student)
            & (rows["Finished"] == "True")
            & (rows["StartDate"] > mine["StartDate"].iloc[0])
        ]
        assert later.empty


def test_keep_first_policy_keeps_the_earliest(small_simulation):
    simulated, cohort, _ = small_simulation
    raw = dict(cohort.raw)
    raw["exclude"] = {**raw["exclude"], "duplicates": "keep_first", "min_progress": 0}
    first = cohort_from_dict(raw)
    ledger = ingest_wave(first, "baseline").ledger.set_index("row_number")
    frame = simulated.exports["baseline"]
    rows = frame.set_index(pd.RangeIndex(1, len(frame) + 1))
    kept = rows[ledger["disposition"] == "analysed"]
    for student, group in rows[rows["ExternalReference"].duplicated(keep=False)].groupby(
        "ExternalReference"
    ):
        if student in ("", "TEST"):
            continue
        earliest = group["StartDate"].min()
        assert kept.loc[kept["ExternalReference"] == student, "StartDate"].tolist() == [earliest]


def test_labels_map_through_the_instrument_key(small_simulation):
    simulated, cohort, _ = small_simulation
    result = ingest_wave(cohort, "baseline")
    frame = simulated.exports["baseline"]
    rows = frame.set_index(pd.RangeIndex(1, len(frame) + 1))
    ledger = result.ledger
    kept_rows = ledger.loc[ledger["disposition"] == "analysed", ["row_number", "respondent_id"]]
    responses = result.responses.set_index("respondent_id")
    labels = rows.loc[kept_rows["row_number"], "Q1_4"].to_numpy()
    values = responses.loc[kept_rows["respondent_id"], "stress_4"].to_numpy()
    # PSS-10 key (Cohen): Never 0, Almost never 1, Sometimes 2, Fairly often 3, Very often 4.
    key = {"Never": 0, "Almost never": 1, "Sometimes": 2, "Fairly often": 3, "Very often": 4}
    for label, value in zip(labels, values, strict=True):
        if label == "":
            assert pd.isna(value)
        else:
            assert value == key[label]


def test_pseudonyms_link_waves_and_depend_on_the_key(small_simulation):
    _, cohort, _ = small_simulation
    baseline = ingest_wave(cohort, "baseline").responses
    followup = ingest_wave(cohort, "followup").responses
    linked = set(baseline["respondent_id"]) & set(followup["respondent_id"])
    assert len(linked) > 0.6 * len(followup)
    ids = pd.Series(["S100001", " S100001 ", "S100002", ""])
    one = pseudonymize(ids, b"key-one-0123456789")
    two = pseudonymize(ids, b"key-two-0123456789")
    assert one[0] == one[1] != one[2] and one[3] is None
    assert one[0] != two[0] and len(one[0]) == 16
    # HMAC-SHA256 reference computed with Python's hmac module by hand:
    # hmac.new(b"key-one-0123456789", b"S100001", "sha256").hexdigest()[:16]
    import hashlib
    import hmac

    assert one[0] == hmac.new(b"key-one-0123456789", b"S100001", hashlib.sha256).hexdigest()[:16]


def test_parquet_has_schema_and_provenance(small_simulation, tmp_path):
    _, cohort, _ = small_simulation
    result = ingest_wave(cohort, "followup", tmp_path / "r.parquet", tmp_path / "l.parquet")
    schema = pq.read_schema(tmp_path / "r.parquet")
    assert str(schema.field("stress_1").type) == "int8"
    assert str(schema.field("gpa").type) == "double"
    meta = read_metadata(tmp_path / "r.parquet")
    source = meta["sources"][0]
    assert source["file"] == "followup.csv"
    assert source["rows_read"] == source["rows_kept"] + source["rows_excluded"]
    assert "RecipientEmail" in source["dropped_columns"]["direct_identifier"]
    assert "Q6" in source["dropped_columns"]["free_text"]
    assert meta["config_hash"] == cohort.config_hash
    assert len(pd.read_parquet(tmp_path / "r.parquet")) == len(result.responses)


def _write_variant(data_dir, tmp_path, edit):
    with open(data_dir / "baseline.csv", encoding="utf-8", newline="") as handle:
        text = handle.read()
    path = tmp_path / "baseline.csv"
    path.write_text(edit(text), encoding="utf-8", newline="")
    return path


def _export_with_cell(data_dir, tmp_path, column, value):
    """Copy the baseline export with one cell of a finished real response replaced.
    Returns the path and the 0-based data-row position of the changed row."""
    frame = pd.read_csv(data_dir / "baseline.csv", skiprows=[1, 2], dtype=str,
                        keep_default_na=False)  # fmt: skip
    row = frame.index[(frame["Status"] == "IP Address") & (frame["Progress"] == "100")
                      & (frame[column] != "")][0]  # fmt: skip
    frame.loc[row, column] = value
    header = _write_variant(data_dir, tmp_path, lambda t: "\r\n".join(t.split("\r\n")[:3]))
    body = frame.to_csv(index=False, header=False, lineterminator="\r\n")
    header.write_text(header.read_text() + "\r\n" + body, newline="")
    return header, row


def _cohort_reading(path, cohort):
    raw = dict(cohort.raw)
    raw["sources"] = [{"path": str(path), "wave": "baseline"}]
    return cohort_from_dict(raw)


def test_unknown_label_names_file_row_and_column(small_simulation, tmp_path):
    _, cohort, data_dir = small_simulation
    path, row = _export_with_cell(data_dir, tmp_path, "Q3_2", "Sometimes maybe")
    with pytest.raises(ExportError) as info:
        ingest_wave(_cohort_reading(path, cohort), "baseline")
    error = info.value
    assert error.row == row + 4  # 3 header rows, then 1-based data rows
    assert error.column == "Q3_2"
    # The cell is described, never quoted; the expected labels come from the key.
    assert "Sometimes maybe" not in str(error) and "Several days" in error.expected
    assert error.found == "text of 15 characters (2 words)"
    assert str(path) in str(error)


def test_missing_mapped_column(small_simulation, tmp_path):
    _, cohort, data_dir = small_simulation
    path = _write_variant(data_dir, tmp_path, lambda t: t.replace("Q5_3,", "Q5_three,", 1))
    with pytest.raises(ExportError) as info:
        ingest_wave(_cohort_reading(path, cohort), "baseline")
    assert info.value.column == "Q5_3" and "Q5_three" not in info.value.column
    assert "outcomes.loneliness.columns" in info.value.problem


def test_text_in_numeric_item(small_simulation, tmp_path):
    _, cohort, data_dir = small_simulation
    path, row = _export_with_cell(data_dir, tmp_path, "gpa", "three point two")
    with pytest.raises(ExportError) as info:
        ingest_wave(_cohort_reading(path, cohort), "baseline")
    assert (info.value.row, info.value.column) == (row + 4, "gpa")
    assert "three point two" not in str(info.value)
    assert info.value.found == "text of 15 characters (3 words)"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ("StartDate,EndDate\r\nStart Date,End Date\r\n", "too few header rows"),
    ],
)
def test_empty_or_headless_files(tmp_path, content, problem):
    path = tmp_path / "export.csv"
    path.write_text(content)
    with pytest.raises(ExportError, match=problem):
        read_qualtrics(path)


def test_truncated_file_names_the_row(small_simulation, tmp_path):
    _, _, data_dir = small_simulation
    path = _write_variant(data_dir, tmp_path, lambda t: t[: len(t) // 2])  # cut mid-row
    with pytest.raises(ExportError) as info:
        read_qualtrics(path)
    assert info.value.row is not None and "fields" in info.value.expected


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00 an xlsx renamed to csv")
    with pytest.raises(ExportError, match="binary"):
        read_qualtrics(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
def test_encodings_decode_to_the_same_text(encoding):
    # "Zoë, Ærø" survives each encoding (UTF-16 and UTF-8-sig carry a BOM, Latin-1 falls back).
    from outcomes.ingest.detect import decode_text

    text = "StartDate,Name\r\nZoë,Ærø\r\n"
    assert decode_text(text.encode(encoding), "x.csv") == text


def test_unknown_encoding_in_config():
    from outcomes.ingest.detect import decode_text

    with pytest.raises(ExportError, match="unknown encoding"):
        decode_text(b"a,b", "x.csv", encoding="klingon-8")


def test_demo_key_refused_for_real_cohorts(small_simulation, monkeypatch):
    _, cohort, _ = small_simulation
    monkeypatch.delenv("OUTCOMES_PSEUDONYM_KEY", raising=False)
    real = dataclasses.replace(cohort, pseudonym_key={"env": "OUTCOMES_PSEUDONYM_KEY"})
    with pytest.raises(OutcomesError, match="pseudonym key"):
        ingest_wave(real, "baseline")
    monkeypatch.setenv("OUTCOMES_PSEUDONYM_KEY", "a-real-secret-of-enough-length")
    assert len(ingest_wave(real, "baseline").responses) > 0


def test_demo_config_validates():
    cohort = cohort_from_dict(demo_cohort_dict(ROOT / "data/demo"))
    assert [o.name for o in cohort.outcomes] == [
        "stress", "self_esteem", "depression", "anxiety", "loneliness", "gpa"
    ]  # fmt: skip


def test_key_file_must_be_outside_any_repository(small_simulation, tmp_path):
    _, cohort, _ = small_simulation
    inside = tmp_path / "repo"
    (inside / ".git").mkdir(parents=True)
    (inside / "key.txt").write_text("a-secret-that-is-long-enough\n")
    with pytest.raises(OutcomesError, match="inside a git repository"):
        ingest_wave(dataclasses.replace(cohort, pseudonym_key={"file": str(inside / "key.txt")}),
                    "baseline")  # fmt: skip
    outside = tmp_path / "keys"
    outside.mkdir()
    (outside / "key.txt").write_text("a-secret-that-is-long-enough\n")
    keyed = dataclasses.replace(cohort, pseudonym_key={"file": str(outside / "key.txt")})
    assert len(ingest_wave(keyed, "baseline").responses) > 0


def test_two_sources_of_a_wave_with_the_same_students(small_simulation):
    _, cohort, data_dir = small_simulation
    raw = dict(cohort.raw)
    raw["sources"] = [
        {"path": str(data_dir / "baseline.csv"), "wave": "baseline"},
        {"path": str(data_dir / "followup.csv"), "wave": "baseline"},  # same students again
    ]
    with pytest.raises(ExportError) as info:
        ingest_wave(cohort_from_dict(raw), "baseline")
    assert "same respondent" in info.value.problem
    assert "baseline.csv" in str(info.value.file) and "followup.csv" in str(info.value.file)
