"""The `certify` command line, assembled from its modules:

    operations.py      serve, worker, maintain, sweep, demo; db upgrade, uploads purge, keys rewrap
    administration.py  enrol; staff, apikey, link and agency (straight on the database)
    agency_remote.py   bulk-enrol, record-deaths, export (an agency, through the HTTP API)
    check.py           check, verify (offline, no service)
    watch.py           watch (assisted captures: per staff member and device, flags)
    context.py         the services of one command, and its errors as exit code 2

Commands are registered here in the order `certify --help` lists them.
"""

from __future__ import annotations

import typer

from . import administration, agency_remote, check, operations, watch

__all__ = ["app", "main"]

app = typer.Typer(
    help="certify: proof-of-life certification for pensions.",
    no_args_is_help=True,
    add_completion=False,
)

app.command()(operations.worker)
app.command()(operations.maintain)
app.command()(operations.serve)
app.command()(check.check)
app.command()(administration.enrol)
app.command()(operations.demo)
app.command()(check.verify)
app.command("bulk-enrol")(agency_remote.bulk_enrol)
app.command("record-deaths")(agency_remote.record_deaths)
app.command()(agency_remote.export)
app.command()(operations.sweep)
app.command()(watch.watch)

app.add_typer(operations.db_app, name="db")
app.add_typer(administration.link_app, name="link")
app.add_typer(operations.uploads_app, name="uploads")
app.add_typer(operations.stats_app, name="stats")
app.add_typer(administration.staff_app, name="staff")
app.add_typer(administration.apikey_app, name="apikey")
app.add_typer(operations.keys_app, name="keys")
app.add_typer(administration.agency_app, name="agency")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
