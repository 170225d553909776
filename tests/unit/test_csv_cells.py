"""CSV formula injection (OWASP): cells starting with = + - @ tab or CR get a leading '."""

from __future__ import annotations

import csv
import io

from service.infra.csv_cells import SafeCsvWriter, neutralise_cell, neutralise_row


def test_formula_triggers_get_a_leading_quote_and_nothing_else_changes():
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=", "-"):
        assert neutralise_cell(value) == "'" + value
    for value in ("张三", "a=1", " =1", "'=1", "", "1-2", None, 42, -1):
        assert neutralise_cell(value) == value
    assert neutralise_row(["=A1", None, "ok"]) == ["'=A1", None, "ok"]


def test_the_safe_writer_neutralises_every_cell_it_writes():
    out = io.StringIO()
    writer = SafeCsvWriter(csv.writer(out, lineterminator="\n"))
    writer.writerow(["line", "message"])
    writer.writerows([[3, '=HYPERLINK("x") is not in the zip'], [4, "-1"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["line", "message"], ["3", "'=HYPERLINK(\"x\") is not in the zip"], ["4", "'-1"]]
