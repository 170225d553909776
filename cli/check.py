"""Offline checks that need no service: `check` runs the certification pipeline on one
video, `verify` checks a signed certificate with the agency's public key. Exit 0: passed
or valid; 1: failed, invalid or expired."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "check",
    "format_report",
    "verify",
]


def check(
    video: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Selfie video")],
    reference: Annotated[
        list[Path], typer.Option("--reference", "-r", exists=True, dir_okay=False)
    ],
    challenge: Annotated[str, typer.Option(help="Actions in order, e.g. blink,turn_left")],
    digits: Annotated[str | None, typer.Option(help="Four digits read aloud")] = None,
    mirrored: Annotated[bool, typer.Option(help="The recording is mirrored")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Run the certification pipeline locally on one video and print the decision."""
    from certify import (
        ChallengeError,
        ImageError,
        VideoError,
        assess,
        check_reference_photo,
        decode_video,
        load_dlib_backend,
        load_image,
        parse_challenge,
    )

    try:
        parsed = parse_challenge(challenge, digits=digits, mirrored=mirrored)
    except ChallengeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--challenge") from None
    backend = load_dlib_backend()
    embeddings = []
    for path in reference:
        try:
            photo = check_reference_photo(load_image(path.read_bytes()), backend=backend)
        except ImageError as exc:
            raise typer.BadParameter(f"{path}: {exc}", param_hint="--reference") from None
        if photo.embedding is None:
            reason = photo.reason.value if photo.reason else "unusable"
            raise typer.BadParameter(f"{path}: {reason}", param_hint="--reference")
        embeddings.append(photo.embedding)
    try:
        decoded = decode_video(video)
    except VideoError as exc:
        report = {"decision": "failed", "reasons": [exc.reason.value], "match_distance": None,
                  "actions": [], "timings_ms": {}, "error": exc.message}
    else:
        report = assess(decoded, parsed, embeddings, backend=backend).to_json()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        typer.echo(format_report(report))
    raise typer.Exit(0 if report["decision"] == "passed" else 1)


def format_report(report: dict) -> str:
    """A short human-readable rendering of an assessment's JSON."""
    lines = [f"decision: {report['decision']}"]
    if report.get("reasons"):
        lines.append(f"reasons:  {', '.join(report['reasons'])}")
    distance = report.get("match_distance")
    lines.append(f"match distance: {'-' if distance is None else f'{distance:.3f}'}")
    for action in report.get("actions", []):
        lines.append(
            f"  action {action['name']:<11} at {action['t_ms'] / 1000:6.2f} s"
            f"  strength {action['strength']:.2f}"
        )
    for name, value in sorted(report.get("scores", {}).items()):
        lines.append(f"  score {name:<24} {value:.3f}")
    timings = report.get("timings_ms", {})
    if timings:
        lines.append("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()))
    if report.get("thresholds_version"):
        lines.append(f"thresholds: {report['thresholds_version']}  engine: {report.get('engine_version')}")
    if report.get("error"):
        lines.append(f"error: {report['error']}")
    return "\n".join(lines)


def verify(
    cert: Annotated[str, typer.Argument(help="The certificate text (CRT1....) or a file holding it")],
    public_key: Annotated[
        Path, typer.Option("--public-key", "-k", exists=True, dir_okay=False,
                           help="The issuing agency's public key (PEM, from /v1/agencies/REGION/public-key)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Check a signed certificate offline with the agency's public key (exit 0: valid)."""
    import datetime as dt

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from service.certificates import CertificateError, verify_token

    text = cert.strip()
    if not text.startswith(("CRT", "CRQ")) and Path(text).is_file():
        text = Path(text).read_text().strip()
    try:
        key = load_pem_public_key(public_key.read_bytes())
    except ValueError as exc:
        raise typer.BadParameter(f"not a PEM public key: {exc}", param_hint="--public-key") from None
    try:
        verified = verify_token(text, key)  # type: ignore[arg-type]
    except CertificateError as exc:
        report = {"valid": False, "code": exc.code, "message": str(exc)}
    except TypeError:
        report = {"valid": False, "code": "key_not_ed25519", "message": "the key is not an Ed25519 key"}
    else:
        expired = verified.expired(dt.date.today())
        report = {"valid": not expired, "code": "expired" if expired else "ok", "payload": verified.payload}
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    elif report["valid"] or report["code"] == "expired":
        p = report["payload"]
        typer.echo(f"{'VALID' if report['valid'] else 'EXPIRED'}: certificate {p['id']}")
        typer.echo(f"  pensioner {p['pensioner']['national_id_masked']} ({p['pensioner'].get('id', '-')})")
        typer.echo(f"  scheme {p['scheme']}, period {p['period']}, method {p['method']}")
        typer.echo(f"  certified {p.get('certified_at', '-')}, valid until {p['valid_until']}")
        typer.echo(f"  issuer {p['issuer'].get('name', '-')} ({p['issuer'].get('region', '-')}, key {p['issuer']['key_id']})")
    else:
        typer.echo(f"INVALID: {report['code']}: {report['message']}")
    raise typer.Exit(0 if report["valid"] else 1)
