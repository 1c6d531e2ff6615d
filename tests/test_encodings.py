"""Encodings: a file is read in one encoding, or it stops naming the first bad line; a NUL
byte anywhere stops it. Expected lines are counted by hand from the bytes written below."""

from __future__ import annotations

import pytest

from outcomes.errors import ExportError
from outcomes.ingest.detect import decode_text

HEADER = b"student_id,school,gender\r\n"


def test_utf8_and_cp1252_mixed_in_one_file_stops_at_the_first_bad_line():
    # Line 2 is UTF-8 ("Ecole Séverine", \xc3\xa9), line 4 has a cp1252 "é" (\xe9): reading
    # the file as either encoding would garble one of them (a bogus extra school).
    data = (
        HEADER + "S1,École Séverine,F\r\n".encode() + b"S2,North,M\r\nS3,\xc9cole S\xe9verine,F\r\n"
    )
    with pytest.raises(ExportError, match="mixes UTF-8") as info:
        decode_text(data, "x.csv")
    assert info.value.row == 4
    # An explicit encoding in the config decodes it (the analyst's decision).
    assert "Séverine" in decode_text(data.replace("É".encode(), b"E").replace(
        "é".encode(), b"\xe9"), "x.csv", encoding="cp1252")  # fmt: skip


def test_a_genuine_cp1252_file_is_read_with_a_warning():
    data = HEADER + b"S1,\xc9cole S\xe9verine,F\r\n"
    assert "École Séverine" in decode_text(data, "x.csv")


def test_a_late_nul_byte_stops_naming_its_line():
    data = HEADER + b"S1,North,F\r\n" * 400 + b"S9,No\x00rth,F\r\n"
    assert len(data) > 4096  # beyond the binary-file sniff of the first 4 KiB
    with pytest.raises(ExportError, match="NUL byte") as info:
        decode_text(data, "x.csv")
    assert info.value.row == 402  # header + 400 rows + the damaged one
