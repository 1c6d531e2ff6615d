"""Identifiers by value, not only by name (issue 9, item 1).

Every mapped column that is not an item (group, cluster, covariates) is checked cell by cell:
an identifier stops the run naming the file, row and column, never the value. Rare category
labels are recoded (covariates) or replaced by a code (clusters); identifier-named and
free-text columns are refused even when mapped, unless declared safe with a reason.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import logging

import pandas as pd
import pytest

from outcomes.config import cohort_from_dict, load_cohort
from outcomes.errors import ExportError
from outcomes.ingest import ingest_wave, read_export
from outcomes.ingest.codebook import (
    apply_source_settings,
    cluster_code,
    map_rows,
    resolve_columns,
)
from outcomes.ingest.exclusions import exclusion_reasons
from outcomes.ingest.ledger import build_ledger
from outcomes.ingest.privacy import (
    identifier_name_kind,
    identifying_cells,
    identifying_kind,
    refuse_mapped_identifiers,
)

from .conftest import ROOT

N = 60
SCHOOLS = ("Eastgate High", "Lakeview Academy", "Hillcrest High")
LABELS = ("Hardly ever", "Some of the time", "Often")  # UCLA-3


def _rows(n: int = N) -> list[dict[str, str]]:
    """A plain export: 3 schools of 20, two genders of 30, grade levels 9-12, both groups."""
    return [
        {
            "student_id": f"S{i:04d}",
            "mentoring": "Yes" if i % 2 else "No",
            "school": SCHOOLS[i % 3],
            "gender": "Female" if i % 4 < 2 else "Male",
            "grade_level": str(9 + i % 4),
            "program": "Group A" if i % 2 else "Group B",
            "StudentName": "Group A" if i % 2 else "Group B",
            "Q9_TEXT": "Group A" if i % 2 else "Group B",
            **{f"lonely_{k}": LABELS[(i + k) % 3] for k in (1, 2, 3)},
        }
        for i in range(n)
    ]


def _write(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _config(path, **covariates) -> dict:
    return {
        "name": "planted",
        "waves": ["baseline"],
        "sources": [{"path": str(path), "wave": "baseline", "format": "csv"}],
        "respondent_id": "student_id",
        "pseudonym_key": {"demo": True},
        "group": {"column": "mentoring", "participant": ["Yes"], "comparison": ["No"]},
        "cluster": "school",
        "covariates": covariates
        or {
            "gender": {"column": "gender", "type": "categorical"},
            "grade_level": {"column": "grade_level", "type": "numeric"},
        },
        "outcomes": {
            "loneliness": {
                "instrument": "ucla3",
                "columns": "lonely_{1..3}",
                "label": "Loneliness",
                "domain": "social",
            },
        },
        "plan": {"methods": ["unadjusted"], "baseline_wave": None},
    }


def _cohort(tmp_path, rows, edit=None, **covariates):
    path = tmp_path / "export.csv"
    _write(path, rows)
    cohort = cohort_from_dict(_config(path, **covariates))
    if edit:  # keys the schema does not have yet (levels, safe): set on the validated config
        cohort = edit(cohort)
    return cohort, path


def _planted(tmp_path, column, value, at=(7,), edit=None, **covariates):
    """Ingest an export with ``value`` in ``column`` at the data rows ``at`` (0-based); return
    the error, the file and the file line of the first planted row (1 header row)."""
    rows = _rows()
    for i in at:
        rows[i][column] = value
    cohort, path = _cohort(tmp_path, rows, edit, **covariates)
    with pytest.raises(ExportError) as info:
        ingest_wave(cohort, "baseline")
    error = info.value
    assert value not in str(error)  # never the value, anywhere in the message
    for part in (error.problem, error.expected, error.found):
        assert value not in str(part)
    assert error.file == path
    return error, path, 2 + min(at)


def _with_spec(name, **keys):
    """A cohort edit adding keys to one covariate spec (``levels``, ``safe``)."""

    def edit(cohort):
        covariates = {n: dict(s) for n, s in cohort.covariates.items()}
        covariates[name].update(keys)
        return dataclasses.replace(cohort, covariates=covariates)

    return edit


# --- by value -------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [(7,), tuple(range(3, 48, 3))], ids=["1 row", "15 rows"])
def test_email_in_a_categorical_covariate_stops_the_run(tmp_path, at):
    email = "jane.doe@example.org"
    error, _, line = _planted(tmp_path, "gender", email, at=at)
    assert (error.row, error.column) == (line, "gender")
    assert "an email address" in error.problem and "covariates.gender" in error.problem
    assert error.found == "an email address"


def test_student_name_in_the_cluster_column(tmp_path):
    error, _, line = _planted(tmp_path, "school", "Jane Doe")
    assert (error.row, error.column) == (line, "school")
    assert "a person's name" in error.problem and "(cluster)" in error.problem
    assert error.found == "text of 8 characters (2 words, each capitalised)"
    assert "cluster.safe" in error.expected  # a heuristic: says how to declare it safe


@pytest.mark.parametrize("value", ["5551234567", "5551234567.0", "5.551234567e9"])
def test_phone_number_in_a_numeric_covariate(tmp_path, value):
    # A number, so the numeric check lets it through: the identifier scan stops it.
    error, _, line = _planted(tmp_path, "grade_level", value)
    assert (error.row, error.column) == (line, "grade_level")
    assert "a long number" in error.problem and "covariates.grade_level" in error.problem
    assert "4567" not in error.found


@pytest.mark.parametrize("value", ["(555) 123-4567", "+1 555 123 4567"])
def test_formatted_phone_number_in_a_numeric_covariate_is_text_in_a_number(tmp_path, value):
    # Text in a numeric column is refused as such (the existing check), described, not shown.
    error, _, line = _planted(tmp_path, "grade_level", value)
    assert (error.row, error.column, error.found) == (line, "grade_level", "a phone number")
    assert error.problem == "a text value in a numeric column"


@pytest.mark.parametrize(
    ("value", "kind", "found"),
    [
        ("123-45-6789", "a national ID number", "a number shaped like a national ID"),
        ("192.168.10.20", "an IP address", "an IP address"),
        ("2001:db8::ff00:42:8329", "an IP address", "an IP address"),
        ("S12345678", "a long number", "a code of 9 characters (letters and digits)"),
        ("(555) 123-4567", "a phone number", "a phone number"),
        ("40.712800, -74.006000", "a pair of map coordinates", "a pair of map coordinates"),
        ("https://example.org/u/jdoe", "a web address", "a web address"),
        ("I live with my aunt on Elm Street", "free text", "text of 33 characters"),
    ],
)
def test_identifier_in_a_categorical_covariate(tmp_path, value, kind, found):
    error, _, line = _planted(tmp_path, "gender", value)
    assert (error.row, error.column) == (line, "gender")
    assert kind in error.problem and error.found.startswith(found)


def test_an_excluded_row_is_checked_too(tmp_path):
    # A row without an id is excluded (missing_id), but its email is still an identifier in a
    # mapped column of the export: the run stops rather than leave it for the next step.
    rows = _rows()
    rows[5]["student_id"], rows[5]["gender"] = "", "jane.doe@example.org"
    cohort, _ = _cohort(tmp_path, rows)
    with pytest.raises(ExportError, match="an email address") as info:
        ingest_wave(cohort, "baseline")
    assert (info.value.row, info.value.column) == (7, "gender")


def test_identifier_in_the_group_column(tmp_path):
    error, _, line = _planted(tmp_path, "mentoring", "jane.doe@example.org")
    assert (error.row, error.column, error.found) == (line, "mentoring", "an email address")


def test_safe_column_still_refuses_unambiguous_identifiers(tmp_path):
    edit = _with_spec("gender", safe="labels typed by staff from a fixed list")
    error, _, _ = _planted(tmp_path, "gender", "jane.doe@example.org", edit=edit)
    assert "an email address" in error.problem
    # ... but not the heuristics: a name-like rare level is recoded, not refused
    rows = _rows()
    rows[7]["gender"] = "Jane Doe"
    cohort, _ = _cohort(tmp_path, rows, edit)
    result = ingest_wave(cohort, "baseline")
    assert "Jane Doe" not in set(result.responses["gender"])
    assert result.responses["gender"].eq("other").sum() == 1


# --- by name --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "kind"),
    [("StudentName", "an identifier"), ("Q9_TEXT", "free text")],
)
def test_identifier_or_free_text_column_mapped_as_a_covariate(tmp_path, column, kind):
    covariates = {"extra": {"column": column, "type": "categorical"}}
    cohort, path = _cohort(tmp_path, _rows(), **covariates)
    with pytest.raises(ExportError) as info:
        ingest_wave(cohort, "baseline")
    error = info.value
    assert (error.file, error.column) == (path, column)
    assert f"holds {kind}" in error.problem and "covariates.extra.column" in error.problem
    assert "covariates.extra.safe" in error.expected
    # Declared safe with a reason, it is accepted.
    safe = _with_spec("extra", safe="holds the mentoring group, A or B")
    cohort, _ = _cohort(tmp_path, _rows(), safe, **covariates)
    result = ingest_wave(cohort, "baseline")
    assert set(result.responses["extra"]) == {"Group A", "Group B"}


def test_numeric_covariate_from_a_text_box_is_accepted_by_its_values(tmp_path):
    # An age typed in a Qualtrics text box is a _TEXT column: as a numeric covariate every
    # cell must be a number (and not phone-like), so the free-text name rule does not apply.
    rows = _rows()
    for i, row in enumerate(rows):
        row["Q9_TEXT"] = str(14 + i % 4)
    covariates = {"age": {"column": "Q9_TEXT", "type": "numeric"}}
    cohort, _ = _cohort(tmp_path, rows, **covariates)
    assert set(ingest_wave(cohort, "baseline").responses["age"]) == {14.0, 15.0, 16.0, 17.0}
    rows[3]["Q9_TEXT"] = "5551234567"
    cohort, _ = _cohort(tmp_path, rows, **covariates)
    with pytest.raises(ExportError, match="a long number") as info:
        ingest_wave(cohort, "baseline")
    assert "5551234567" not in str(info.value) and info.value.row == 5
    # ... but a name marking an identifier is refused as a numeric covariate too.
    for row in rows:
        row["Phone"] = "1"
    cohort, _ = _cohort(tmp_path, rows, phone={"column": "Phone", "type": "numeric"})
    with pytest.raises(ExportError, match="by its name holds an identifier"):
        ingest_wave(cohort, "baseline")


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("StudentName", "an identifier"), ("first_name", "an identifier"),
        ("Phone", "an identifier"), ("E-mail", "an identifier"), ("student_id", "an identifier"),
        ("StudentNumber", "an identifier"), ("IPAddress", "an identifier"),
        ("home_address", "an identifier"), ("Q9_TEXT", "free text"), ("Q12_4_TEXT", "free text"),
        ("comments", "free text"), ("school_name", None), ("SchoolName", None), ("gender", None),
        ("grade_level", None), ("mentoring", None), ("school", None), ("program", None),
    ],
)  # fmt: skip
def test_identifier_name_kind(tmp_path, column, kind):
    path = tmp_path / "names.csv"
    _write(path, [{column: "x"}])
    assert identifier_name_kind(read_export(path), column) == kind


def test_refuse_mapped_identifiers_with_roles_and_safe(tmp_path):
    path = tmp_path / "names.csv"
    _write(path, [{"RecipientEmail": "x", "Phone": "y", "gender": "z"}])
    raw = read_export(path)
    classes = {"RecipientEmail": "direct_identifier", "Phone": "mapped", "gender": "mapped"}
    mapped = set(classes)
    with pytest.raises(ExportError, match="direct identifier"):
        refuse_mapped_identifiers(classes, raw, mapped, set())
    roles = {"Phone": "covariates.phone.column", "gender": "covariates.gender.column"}
    safe = {"RecipientEmail": "a test"}
    with pytest.raises(ExportError, match="by its name holds an identifier") as info:
        refuse_mapped_identifiers(classes, raw, mapped, set(), roles=roles, safe=safe)
    assert info.value.column == "Phone"
    safe["Phone"] = "the school's switchboard, one per school"
    refuse_mapped_identifiers(classes, raw, mapped, set(), roles=roles, safe=safe)


# --- rare levels ----------------------------------------------------------------------------


def _mapped(cohort):
    """map_rows of the cohort's one source, as ingest_wave calls it."""
    source = cohort.sources[0]
    raw = apply_source_settings(read_export(source), source)
    columns = resolve_columns(raw, cohort, source.waves)
    reasons = exclusion_reasons(raw, cohort, columns, "baseline")
    mapped, quarantine = map_rows(raw, cohort, columns, reasons.index[reasons.isna()])
    return raw, mapped, quarantine, reasons


def test_rare_gender_level_is_recoded_to_other(tmp_path, caplog):
    rows = _rows()
    for i in (4, 9, 30):
        rows[i]["gender"] = "Genderfluid"
    cohort, _ = _cohort(tmp_path, rows)
    with caplog.at_level(logging.INFO, logger="outcomes"):
        result = ingest_wave(cohort, "baseline")
    counts = result.responses["gender"].value_counts().to_dict()
    assert counts["other"] == 3 and "Genderfluid" not in counts
    assert "gender: 3 kept responses rare level recoded to other" in caplog.text
    # The rows recoded are named for the ledger (its detail), each once; no new ledger row.
    raw, _, quarantine, reasons = _mapped(cohort)
    recoded = quarantine.attrs["recoded"]
    assert recoded.index.tolist() == [5, 10, 31]  # data rows (1-based)
    assert set(recoded) == {"gender: rare level recoded to other (fewer than 10 responses)"}
    assert quarantine.attrs["recoded_counts"] == {"gender": 3}
    ids = raw.values["student_id"]
    ledger = build_ledger("export.csv", "baseline", reasons.index, ids, reasons,
                          details=quarantine, recoded=recoded)  # fmt: skip
    assert len(ledger) == N and ledger["detail"].notna().sum() == 3
    assert ledger.set_index("row_number").loc[10, "detail"] == recoded[10]


def test_declared_levels_keep_only_those(tmp_path):
    rows = _rows()
    rows[0]["gender"] = "female"  # a case difference maps to the declared spelling
    for i in range(1, 40, 3):  # 13 rows: common, but not declared
        rows[i]["gender"] = "Non-binary"
    levels = _with_spec("gender", levels=["Female", "Male", "Other"])
    cohort, _ = _cohort(tmp_path, rows, levels)
    result = ingest_wave(cohort, "baseline")
    assert set(result.responses["gender"]) == {"Female", "Male", "Other"}
    assert result.responses["gender"].eq("Other").sum() == 13
    _, _, quarantine, _ = _mapped(cohort)
    assert quarantine.attrs["recoded_counts"] == {"gender": 13}


def test_declared_level_is_never_taken_for_an_identifier(tmp_path):
    # Name-shaped and rare: it stops the run unless the config declares it a level.
    error, _, _ = _planted(tmp_path, "gender", "Two Spirit", at=(3,))
    assert "a person's name" in error.problem and "covariates.gender.levels" in error.expected
    rows = _rows()
    rows[3]["gender"] = "Two Spirit"
    levels = _with_spec("gender", levels=["Female", "Male", "Two Spirit"])
    cohort, _ = _cohort(tmp_path, rows, levels)
    assert ingest_wave(cohort, "baseline").responses["gender"].eq("Two Spirit").sum() == 1


def test_small_cluster_keeps_its_students_together_under_a_code(tmp_path):
    rows = _rows()
    small = (2, 13, 26, 41)
    for i in small:
        rows[i]["school"] = "Oakridge Prep"
    cohort, _ = _cohort(tmp_path, rows)
    responses = ingest_wave(cohort, "baseline").responses
    code = cluster_code("Oakridge Prep")
    assert responses["cluster"].eq(code).sum() == len(small)
    assert set(responses["cluster"]) == {*SCHOOLS, code}
    # The code: cluster_ and 10 hex digits of SHA-256 of the label, whatever the key or wave.
    digest = hashlib.sha256(b"outcomes: cluster label v1\x00Oakridge Prep").hexdigest()
    assert code == f"cluster_{digest[:10]}"
    _, _, quarantine, _ = _mapped(cohort)
    assert quarantine.attrs["recoded_counts"] == {"cluster": 4}


def test_levels_are_counted_on_the_kept_rows(tmp_path):
    # 11 rows say "Genderfluid", but 2 are excluded (duplicates of an earlier id): 9 kept.
    rows = _rows()
    at = list(range(0, 44, 4))
    for i in at:
        rows[i]["gender"] = "Genderfluid"
    rows[at[0]]["student_id"] = rows[at[1]]["student_id"] = rows[-1]["student_id"]  # the last kept
    cohort, _ = _cohort(tmp_path, rows)
    result = ingest_wave(cohort, "baseline")
    assert result.ledger["disposition"].eq("duplicate").sum() == 2
    assert result.responses["gender"].eq("other").sum() == 9


def test_ordinary_export_is_unchanged(tmp_path):
    rows = _rows()
    cohort, _ = _cohort(tmp_path, rows)
    result = ingest_wave(cohort, "baseline")
    frame = pd.DataFrame(rows)
    assert result.responses["gender"].value_counts().to_dict() == frame["gender"].value_counts(
    ).to_dict()  # fmt: skip
    assert set(result.responses["cluster"]) == set(SCHOOLS)
    assert sorted(result.responses["grade_level"].unique()) == [9.0, 10.0, 11.0, 12.0]
    _, _, quarantine, _ = _mapped(cohort)
    assert quarantine.attrs["recoded_counts"] == {} and quarantine.attrs["recoded"].empty


def test_demo_cohort_ingests_unchanged():
    """The committed demo: every level is common (Non-binary 32 and 26 responses, schools of
    136 or more), so nothing is refused and nothing recoded: the stored values are the
    export's."""
    cohort = load_cohort(ROOT / "config/cohorts/demo.yaml")
    cohort = dataclasses.replace(cohort, sources=tuple(
        dataclasses.replace(s, path=str(ROOT / s.path)) for s in cohort.sources))  # fmt: skip
    for source in cohort.sources:
        result = ingest_wave(cohort, source.wave)
        raw = read_export(source)
        kept = result.ledger.loc[result.ledger["disposition"].eq("analysed"), "row_number"]
        export = raw.values.loc[kept.to_numpy()]
        for column, variable in (("gender", "gender"), ("school", "cluster")):
            want = export[column].value_counts().sort_index()
            got = result.responses[variable].value_counts().sort_index()
            assert got.to_dict() == want.to_dict()
        assert result.ledger["detail"].isna().all()


# --- the scan itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["10", "9", "12.5", "3.14159", "-4", "0", "2024-09-14", "1e3", "120000", "999999"],
)
def test_plausible_numbers_are_not_identifiers(value):
    assert identifying_kind(value, numeric=True) is None


@pytest.mark.parametrize(
    "value",
    ["Female", "Male", "Non-binary", "Prefer not to say", "Prefer Not To Say", "Eastgate High",
     "Lakeview Academy", "St Mary's", "Grade 9", "2024-2025", "2024-09-14", "09/14/2024",
     "10:30", "2024-09-14 10:30", "A", "Group B", "school_31", "Two or more races",
     "Some college, no degree"],
)  # fmt: skip
def test_ordinary_labels_are_not_identifiers(value):
    assert identifying_kind(value, person_names=True) is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane.doe@example.org", "an email address"),
        ("mail me: jd@school.k12.us please", "an email address"),
        ("www.example.org", "a web address"),
        ("10.0.0.1", "an IP address"),
        ("fe80::1ff:fe23:4567:890a", "an IP address"),
        ("123-45-6789", "a national ID number (###-##-####)"),
        ("555-123-4567", "a phone number"),
        ("555.123.4567", "a phone number"),
        ("+44 20 7946 0958", "a phone number"),
        ("call 555 1234", "a phone number"),
        ("51.5072 -0.1276", "a pair of map coordinates"),
        ("0012345", "a long number (a phone, student or ID number)"),
        ("-33.86880", "a map coordinate"),
        ("Mary-Jane O'Brien", "a person's name"),
        ("Doe, Jane", "a person's name"),
        ("José García", "a person's name"),
        ("line one\nline two", "free text"),
    ],
)
def test_identifier_shapes(value, kind):
    assert identifying_kind(value, person_names=True) == kind


def test_common_values_are_labels_not_identifiers():
    # On 10 rows or more a value is a category label: the heuristics look at rare values only,
    # and names only where most rows hold a few common labels.
    common = pd.Series(["Jane Doe"] * 10 + ["Male"] * 30 + ["Mark Twain"], dtype="category")
    kinds = identifying_cells(common, person_names=True)
    by_value = dict(zip(common.cat.categories, kinds, strict=True))
    assert by_value == {"Jane Doe": None, "Male": None, "Mark Twain": "a person's name"}
    many_small = pd.Series([f"Oak Ridge {c}" for c in "ABCDEFGH"] * 3 + ["Jane Doe"])
    assert identifying_cells(many_small, person_names=True).isna().all()
    # ... but an email is an identifier on any number of rows.
    emails = pd.Series(["jane@example.org"] * 20 + ["Male"] * 20, dtype="category")
    kinds = dict(zip(emails.cat.categories, identifying_cells(emails), strict=True))
    assert kinds == {"jane@example.org": "an email address", "Male": None}
