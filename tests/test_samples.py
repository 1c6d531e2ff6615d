"""Every real export in tests/fixtures/samples/ (copied from shared/samples/) is read by its
reader, sniffed as its format, and its identifying columns are classed and dropped."""

from __future__ import annotations

import pytest

from outcomes.ingest import read_export
from outcomes.ingest.detect import sniff_format
from outcomes.ingest.privacy import classify_columns

from .conftest import SAMPLES

# Expected values counted in the sample files themselves (rows after the header rows, columns
# of the header), domain reference 4.1 and the REDCap dictionaries ("Identifier?" = y;
# field type "notes" for the free-text columns).
CASES = [
    ("qualtrics/sample.csv", "qualtrics", (1, 20),
     {"ExternalReference", "IPAddress", "LocationLatitude", "LocationLongitude",
      "RecipientEmail", "RecipientFirstName", "RecipientLastName"},
     {"Q2", "Q2 - Topics"}),
    ("qualtrics/sample_legacy.csv", "qualtrics", (1, 15),
     {"ExternalReference", "IPAddress", "LocationLatitude", "LocationLongitude", "Name",
      "RecipientEmail"}, set()),
    ("redcap/checkboxes/data.csv", "redcap", (4, 13), set(), {"desired_result"}),
    ("redcap/longitudinal/data.csv", "redcap", (18, 125),
     {"dob", "email", "first_name", "last_name", "telephone_1"},
     {"comments", "study_comments", "vob7", "vob14"}),  # "notes" fields holding prose
    ("redcap/survey/data.csv", "redcap", (2, 33),
     {"address", "email", "first_name", "last_name", "redcap_survey_identifier", "telephone_1"},
     set()),
    ("spss/sample.sav", "spss", (5, 7), set(), set()),
    ("spss/sample_missing.sav", "spss", (7, 7), set(), set()),
    ("spss/missing_test.sav", "spss", (2, 1), set(), set()),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kind", "shape", "identifiers", "free_text"), CASES)
def test_sample_is_read_and_classified(name, kind, shape, identifiers, free_text):
    path = SAMPLES / name
    assert sniff_format(path) == kind
    raw = read_export(path)
    assert raw.format == kind and raw.values.shape == shape
    classes = classify_columns(raw, mapped=set())
    assert {c for c, k in classes.items() if k == "direct_identifier"} == identifiers
    assert {c for c, k in classes.items() if k == "free_text"} == free_text


def test_every_sample_is_covered():
    listed = {name for name, *_ in CASES}
    exports = {
        str(p.relative_to(SAMPLES))
        for p in SAMPLES.rglob("*")
        if p.suffix in {".csv", ".sav"}
        and "dictionary" not in p.name
        and p.name not in {"event.csv", "arm.csv"}
        and not (p.parent.name == "spss" and p.suffix == ".csv")  # pyreadstat's expected readings
    }
    assert exports == listed
