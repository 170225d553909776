"""Alembic environment: the URL comes from models/migrate.py (config.attributes)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import JSON

from models import Base
from models.base import UTCDateTime
from models.db import make_engine

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the project's portable column types by name in generated migrations."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from models.base import UTCDateTime")
        return "UTCDateTime()"
    if isinstance(obj, JSON) and "postgresql" in getattr(obj, "_variant_mapping", {}):
        autogen_context.imports.add("from models.base import JSONValue")
        return "JSONValue"
    return False


def run_migrations() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=target_metadata, render_as_batch=True, render_item=render_item
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite's own procedure for changing a table: foreign keys are not enforced
                # while batch mode recreates a table other tables refer to (DROP TABLE would
                # check, and refuse, every row that refers to it); they are checked at the end.
                # The pragma is a no-op inside a transaction, hence before the first one.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migrations left rows whose foreign keys are broken: {broken[:5]}")
    finally:
        engine.dispose()


run_migrations()
