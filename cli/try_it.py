"""The "try it" block `certify serve` prints on embedded defaults (development), once the
API answers: a one-time link per demo pensioner, the demo sign-ins for the staff and
agency pages, and a curl line for the API. Never outside development (the sign-ins'
password is public)."""

from __future__ import annotations

import threading
import time

import typer

from service.settings import DEV_API_TOKEN, Settings

__all__ = ["TRY_IT_TITLE", "announce_when_started", "base_url_for", "prepare_try_it", "try_it_block"]

TRY_IT_TITLE = "Try it (development only)"


def base_url_for(settings: Settings, *, host: str, port: int) -> str:
    """The address people open: CERTIFY_PUBLIC_BASE_URL, else the one served on (a
    wildcard host shown as 127.0.0.1)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def try_it_block(settings: Settings, *, base_url: str, links: list[tuple[str, str]], accounts) -> str:  # noqa: ANN001
    """The text: `links` as (name, URL), `accounts` the demo sign-ins (service.demo)."""
    from service.demo import DEMO_PASSWORD

    token = settings.api_token.get_secret_value()
    bearer = token if token == DEV_API_TOKEN else "$CERTIFY_API_TOKEN"
    rule = "-" * 72
    lines = [rule, TRY_IT_TITLE, rule]
    if links:
        lines.append("Pensioners: open a one-time link on a phone (each works in the first browser that opens it;")
        lines.append("new ones at every start):")
        lines += [f"  {name}  {url}" for name, url in links]
    else:
        lines.append(f"No demo pensioners: {settings.data_dir}/people was not found.")
    width = max(len(a.username) for a in accounts)
    for account in accounts:
        lines.append(f"{_ROLE_WORDS.get(account.role, account.role):<20}{base_url}{account.page:<17} "
                     f"user {account.username:<{width}}  password {DEMO_PASSWORD}")
    lines.append("API (operator token of development):")
    lines.append(f'  curl -s -H "Authorization: Bearer {bearer}" "{base_url}/v1/results?region=110000"')
    lines.append(rule)
    return "\n".join(lines)


_ROLE_WORDS = {"staff": "Community staff:", "reviewer": "Reviewer:", "admin": "Agency:"}


def prepare_try_it(services, *, base_url: str) -> str:  # noqa: ANN001 - service.context.Services
    """Make the demo sign-ins and fresh links; returns the block to print."""
    from api.routes.links import link_url
    from service.demo import demo_links, ensure_demo_accounts

    accounts = ensure_demo_accounts(services)
    links = [(link.name, link_url(base_url, link.token)) for link in demo_links(services)]
    return try_it_block(services.settings, base_url=base_url, links=links, accounts=accounts)


def announce_when_started(server, text: str, stop: threading.Event) -> threading.Thread:  # noqa: ANN001 - uvicorn.Server
    """Print `text` on stdout once uvicorn has started serving (from a daemon thread)."""

    def wait_and_print() -> None:
        while not server.started:
            if stop.is_set() or server.should_exit:
                return
            time.sleep(0.1)
        typer.echo(text)

    thread = threading.Thread(target=wait_and_print, name="try-it", daemon=True)
    thread.start()
    return thread
