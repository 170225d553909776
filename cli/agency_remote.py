"""The agency's commands against a running service, through its HTTP API with an agency
key: `bulk-enrol` (a CSV and a zip of photos), `record-deaths` (a file of deaths) and
`export` (results to a file). They follow the background job with a progress bar; an
error answer of the API is printed as `error: CODE: MESSAGE` with exit code 2."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from .context import REFUSED_EXIT_CODE, fail

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "POLL_INTERVAL_S",
    "bulk_enrol",
    "record_deaths",
    "export",
]

API_URL_ENV = "CERTIFY_API_URL"
"""Where the agency commands find the service (default http://127.0.0.1:8000)."""
API_KEY_ENV = "CERTIFY_API_KEY"
"""The agency API key (or operator token) the agency commands send."""
POLL_INTERVAL_S = 0.5
"""How often the agency commands ask a background job for its progress."""


def _api_client(api: str | None, token: str | None):
    import httpx

    url = api or os.environ.get(API_URL_ENV) or "http://127.0.0.1:8000"
    key = token or os.environ.get(API_KEY_ENV) or os.environ.get("CERTIFY_API_TOKEN")
    if not key:
        raise typer.BadParameter(f"give --token or set {API_KEY_ENV}", param_hint="--token")
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)


def _fail_on_error(response) -> dict:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            message = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError):
            message = f"HTTP {response.status_code}: {response.text[:300]}"
        fail(message)
    return response.json()


def _follow(client, url: str, *, label: str) -> dict:
    """Poll a background job, drawing a progress bar, until it is done or failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task(label, total=None)
        while True:
            job = _fail_on_error(client.get(url))
            bar.update(task, total=job.get("rows_total"), completed=job.get("rows_done", 0))
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(POLL_INTERVAL_S)


def _bulk_job(client, url: str, files: dict, *, label: str) -> tuple[dict, list[dict]]:
    """Upload a bulk CSV job, follow it to its end; the job and its refused rows. A file
    refused as a whole ends the command (exit 2)."""
    job = _fail_on_error(client.post(url, files=files))
    job = _follow(client, f"{url}/{job['id']}", label=label)
    if job["state"] == "failed":
        typer.echo(f"the file was refused: {job['error']}", err=True)
        raise typer.Exit(REFUSED_EXIT_CODE)
    refused = _fail_on_error(client.get(job["rows_url"], params={"errors_only": True, "limit": 5000}))
    return job, refused


def _report_refused(refused: list[dict], errors_out: Path | None) -> None:
    """The first refused rows on the terminal; every refused row's errors in `errors_out`
    as a CSV (cells neutralised: messages quote the file)."""
    for row in refused[:20]:
        typer.echo(f"  line {row['line']}: " + "; ".join(f"{e['field']}: {e['code']}" for e in row["errors"]))
    if errors_out is None:
        return
    import csv

    from service.infra.csv_cells import SafeCsvWriter

    with errors_out.open("w", newline="", encoding="utf-8") as out:
        writer = SafeCsvWriter(csv.writer(out))
        writer.writerow(["line", "field", "code", "message"])
        for row in refused:
            for e in row["errors"]:
                writer.writerow([row["line"], e["field"], e["code"], e["message"]])


def bulk_enrol(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of pensioners")],
    photos: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Zip of reference photos")] = None,
    api: Annotated[str | None, typer.Option(help=f"Service URL (or {API_URL_ENV})")] = None,
    token: Annotated[str | None, typer.Option(help=f"API key (or {API_KEY_ENV})")] = None,
    errors_out: Annotated[Path | None, typer.Option(help="Write every refused row to this CSV")] = None,
) -> None:
    """Enrol pensioners from a CSV (+ zip of photos) through the API, with a progress bar."""
    with _api_client(api, token) as client, _UploadFiles(csv_file, photos) as files:
        job, refused = _bulk_job(client, "/v1/enrolments", files, label="enrolling")
    typer.echo(f"{job['rows_created']} enrolled, {job['rows_failed']} refused of {job['rows_total']} rows")
    _report_refused(refused, errors_out)
    raise typer.Exit(0 if job["rows_failed"] == 0 else 1)


def record_deaths(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                             help="CSV of deaths: national_id, died_on, reference[, source, name]")],
    api: Annotated[str | None, typer.Option(help=f"Service URL (or {API_URL_ENV})")] = None,
    token: Annotated[str | None, typer.Option(help=f"API key (or {API_KEY_ENV})")] = None,
    errors_out: Annotated[Path | None, typer.Option(help="Write every refused row to this CSV")] = None,
) -> None:
    """Record a file of deaths (the civil registry's monthly file) through the API, with a
    progress bar: each death suspends the pensioner's records, revokes certificates valid
    after it and closes their links and sessions. Exit 1 when some rows were refused."""
    with _api_client(api, token) as client, _UploadFiles(csv_file, None) as files:
        job, refused = _bulk_job(client, "/v1/life-events/deaths", files, label="recording deaths")
    typer.echo(f"{job['rows_recorded']} deaths recorded, {job['rows_failed']} refused of {job['rows_total']} rows")
    _report_refused(refused, errors_out)
    raise typer.Exit(0 if job["rows_failed"] == 0 else 1)


class _UploadFiles:
    """The multipart files of a bulk enrolment, opened and closed together."""

    def __init__(self, csv_file: Path, photos: Path | None) -> None:
        self.paths = {"csv": csv_file, "photos": photos}
        self.handles: list = []

    def __enter__(self) -> dict:
        files = {}
        for field, path in self.paths.items():
            if path is not None:
                handle = path.open("rb")
                self.handles.append(handle)
                media = "text/csv" if field == "csv" else "application/zip"
                files[field] = (path.name, handle, media)
        return files

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.close()


def export(
    out: Annotated[Path, typer.Option(help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "csv",
    region: Annotated[str | None, typer.Option(help="e.g. a province: 440000")] = None,
    period: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="due, certified, overdue, suspended, restored")] = None,
    api: Annotated[str | None, typer.Option(help=f"Service URL (or {API_URL_ENV})")] = None,
    token: Annotated[str | None, typer.Option(help=f"API key (or {API_KEY_ENV})")] = None,
) -> None:
    """Export results as a background job (progress bar), then download the file."""
    body = {"format": fmt, **{k: v for k, v in (("region", region), ("period", period), ("status", status)) if v}}
    with _api_client(api, token) as client:
        job = _fail_on_error(client.post("/v1/exports", json=body))
        job = _follow(client, f"/v1/exports/{job['id']}", label="exporting")
        if job["state"] == "failed":
            typer.echo(f"the export failed: {job['error']}", err=True)
            raise typer.Exit(REFUSED_EXIT_CODE)
        with client.stream("GET", job["download_url"]) as response, out.open("wb") as target:
            if response.status_code >= 400:
                response.read()
                _fail_on_error(response)
            for chunk in response.iter_bytes():
                target.write(chunk)
    typer.echo(f"{job['rows_total']} rows written to {out} (continue the feed with since={job['cursor']})")
