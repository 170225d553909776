"""The pure parts of deaths reported elsewhere: which periods and certificates a date of
death reaches, how a report and a row of a file of deaths are checked."""

from __future__ import annotations

import datetime as dt

import pytest

from service.bulk_jobs import CsvFileError, CsvRow, flag_duplicates, parse_csv
from service.death_reports import DEATH_COLUMNS, check_death_rows, parse_death_date
from service.deaths import DEATH_SOURCES, check_death_report, period_reaches, revoked_by_death
from service.errors import InvalidInputError
from service.rules.national_id import compose_national_id

TODAY = dt.date(2026, 6, 1)


def test_a_death_reaches_the_periods_not_ended_before_it():
    assert period_reaches("2026", dt.date(2026, 5, 20))
    assert period_reaches("2026", dt.date(2026, 12, 31))  # died on the last day: the period is reached
    assert not period_reaches("2025", dt.date(2026, 1, 1))
    assert period_reaches("2027", dt.date(2026, 5, 20))  # a later period, certified after the death
    # a rolling window from 2025-03-15 runs to 2026-03-14
    assert period_reaches("2025-03-15", dt.date(2026, 3, 14))
    assert not period_reaches("2025-03-15", dt.date(2026, 3, 15))


def test_certificates_valid_after_the_date_of_death_are_revoked():
    died_on = dt.date(2026, 5, 20)
    assert revoked_by_death(dt.date(2027, 3, 1), died_on)
    assert revoked_by_death(dt.date(2026, 5, 21), died_on)
    assert not revoked_by_death(dt.date(2026, 5, 20), died_on)  # valid until that day only
    assert not revoked_by_death(dt.date(2026, 3, 1), died_on)


def test_a_death_report_is_checked():
    assert check_death_report(source="hospital", died_on=TODAY, reference="  H-1 ", today=TODAY) == "H-1"
    for source, died_on, reference, code in (
        ("rumour", TODAY, "R", "death_source_invalid"),
        ("family", TODAY + dt.timedelta(days=1), "F", "occurred_on_future"),
        ("civil_registry", TODAY, "   ", "event_reference_required"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            check_death_report(source=source, died_on=died_on, reference=reference, today=TODAY)
        assert refused.value.code == code
    assert set(DEATH_SOURCES) == {"civil_registry", "hospital", "funeral_home", "family"}


@pytest.mark.parametrize(("text", "day"), [
    ("2026-05-03", dt.date(2026, 5, 3)), ("2026/05/03", dt.date(2026, 5, 3)), ("20260503", dt.date(2026, 5, 3)),
    (" 2026-5-3 ", dt.date(2026, 5, 3)), ("03.05.2026", None), ("", None), ("2026-02-30", None),
])
def test_dates_of_death_as_registries_write_them(text, day):
    assert parse_death_date(text) == day


def test_rows_of_a_file_of_deaths_are_checked_without_writing():
    one = compose_national_id("110105", dt.date(1940, 1, 2), 11)
    two = compose_national_id("110105", dt.date(1941, 3, 4), 12)
    text = ("National_ID,died_on,reference,source\n"
            f"{one},2026-05-03,A-1,\n"
            f"{two},2026-05-04,A-2,funeral_home\n"
            f"{two},2026-05-04,A-3,hospital\n"
            "123,2026-13-01,,ghost\n"
            "\n"
            f"{one[:-1]}{'0' if one[-1] != '0' else '1'},2026-07-01,A-5,\n")
    rows = parse_csv(text, required=DEATH_COLUMNS, max_rows=10)
    assert [row.line for row in rows] == [2, 3, 4, 5, 7]  # the empty line is skipped
    checked = check_death_rows(rows, today=TODAY)
    assert checked == {2: (one, dt.date(2026, 5, 3), "civil_registry", "A-1")}
    codes = {row.line: sorted(e.code for e in row.errors) for row in rows}
    assert codes[3] == codes[4] == ["national_id_duplicate"]
    assert codes[5] == ["death_date_invalid", "death_source_invalid", "event_reference_required",
                        codes[5][3]] and codes[5][3].startswith("national_id")
    assert "occurred_on_future" in codes[7] and len(codes[7]) == 2


def test_a_file_without_the_columns_or_with_too_many_rows_is_refused():
    with pytest.raises(CsvFileError) as missing:
        parse_csv("national_id,reference\n1,2\n", required=DEATH_COLUMNS, max_rows=10)
    assert missing.value.code == "csv_header" and "died_on" in missing.value.message
    with pytest.raises(CsvFileError) as many:
        parse_csv("national_id,died_on,reference\n" + "1,2,3\n" * 3, required=DEATH_COLUMNS, max_rows=2)
    assert many.value.code == "csv_too_many_rows"


def test_duplicates_name_every_line_that_shares_the_key():
    rows = [CsvRow(line=n, values={"k": v}) for n, v in ((2, "a"), (3, "b"), (4, "a"), (5, ""))]
    flag_duplicates(rows, key=lambda r: r.values["k"] or None, field_name="k", code="dup", what="key")
    assert [(r.line, [e.message for e in r.errors]) for r in rows] == [
        (2, ["the same key is on lines [2, 4]"]), (3, []), (4, ["the same key is on lines [2, 4]"]), (5, [])]
