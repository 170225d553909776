"""Which addresses the service may send requests to (webhooks), and sending to exactly those.

In production a webhook may only reach public addresses: no loopback, private,
link-local (cloud metadata at 169.254.169.254), shared (100.64/10), multicast, reserved
or documentation address. Two ways around such a rule are closed here:

- **IPv6 forms of an IPv4 address.** A packet to `64:ff9b::7f00:1` (NAT64) is delivered,
  by the translator, to 127.0.0.1. Such an address is judged by the IPv4 address it
  embeds: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated
  (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`, and the local-use `64:ff9b:1::/96`), 6to4
  (`2002:AABB:CCDD::/48`), Teredo (`2001:0::/32`: server and client, the client being
  the bitwise NOT of the last 32 bits) and ISATAP (interface id `0:5efe:a.b.c.d`). The
  rest of the local-use NAT64 prefix `64:ff9b:1::/48` is refused: where the IPv4 address
  sits depends on a prefix length only the local network knows (RFC 6052, RFC 8215).
- **A second DNS answer.** The host is resolved once per delivery; every address of the
  answer is checked, and the request goes to one of exactly those addresses (the URL's
  host replaced by the address, the `Host` header and, for https, the TLS server name
  kept, so the certificate is still verified for the real name). A name that answers a
  public address to the check and 127.0.0.1 to the connection (DNS rebinding) is
  therefore never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import httpx

__all__ = [
    "Address",
    "Resolver",
    "Destination",
    "DestinationRefusedError",
    "resolve_host",
    "embedded_ipv4",
    "literal_address",
    "address_refusal",
    "resolve_destination",
    "destination_refusal",
    "post_to",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""A host name and port to the addresses to connect to (`resolve_host`, or a test's own)."""

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_NAT64_LOCAL_96 = ipaddress.ip_network("64:ff9b:1::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_ISATAP_ID = 0x00005EFE
"""The upper half of an ISATAP interface id (`0:5efe`, with the u/g bits masked off)."""
_LOW_32 = 0xFFFFFFFF


class DestinationRefusedError(Exception):
    """The URL may not be contacted; the message says why."""


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (the system resolver), in its order of preference."""
    # an AF_INET / AF_INET6 socket address starts with the address as a string
    return [cast(str, info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses a packet to this IPv6 address ends up at, when it is one of the
    translated or tunnelled forms (empty otherwise)."""
    value = int(address)
    low = ipaddress.IPv4Address(value & _LOW_32)
    if address in _MAPPED or address in _TRANSLATED or address in _COMPATIBLE:
        return (low,)
    if address in _NAT64 or address in _NAT64_LOCAL_96:
        return (low,)
    if address in _SIX_TO_FOUR:
        return (ipaddress.IPv4Address((value >> 80) & _LOW_32),)
    if address in _TEREDO:
        server = ipaddress.IPv4Address((value >> 64) & _LOW_32)
        return (server, ipaddress.IPv4Address(~value & _LOW_32))
    if (value >> 32) & 0xFCFFFFFF == _ISATAP_ID:
        return (low,)
    return ()


def _is_public(address: Address) -> bool:
    """A globally reachable unicast address (Python's IANA special-purpose registries,
    plus multicast, which `is_global` lets through)."""
    return address.is_global and not address.is_multicast and not address.is_reserved and not (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    )


def address_refusal(address: Address) -> str | None:
    """Why this address must not be contacted (None: it is public). An IPv6 address
    that embeds an IPv4 address is judged by the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # without a scope id (fe80::1%eth0)
        inner = embedded_ipv4(address)
        if inner:
            blocked = [str(v4) for v4 in inner if not _is_public(v4)]
            return f"{address} = {', '.join(blocked)}" if blocked else None
        if address in _NAT64_LOCAL:
            return f"{address} (local-use NAT64 prefix)"
    return None if _is_public(address) else str(address)


@dataclass(frozen=True, slots=True)
class Destination:
    """A URL and the checked addresses its request may go to (resolved once)."""

    url: httpx.URL
    addresses: tuple[str, ...]
    """In the resolver's order; the request tries them in turn (connection errors only)."""

    @property
    def server_name(self) -> str:
        """The host name TLS verifies the certificate for (IDNA form)."""
        return self.url.raw_host.decode("ascii")


def literal_address(host: str) -> Address | None:
    """The address a URL's host names literally (`8.8.8.8`, `[::1]`), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve_destination(
    url: str, *, allow_private: bool, resolve: Resolver = resolve_host,
) -> Destination:
    """Resolve the URL's host once and check every address it names (unless
    `allow_private`); raises DestinationRefusedError with the reason."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DestinationRefusedError(f"not a usable URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise DestinationRefusedError("not an http(s) URL with a host")
    host = parsed.raw_host.decode("ascii")
    literal = literal_address(host)
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = list(resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80)))
        except (OSError, UnicodeError) as exc:
            raise DestinationRefusedError(f"cannot resolve {host}: {exc}") from None
    addresses: list[Address] = []
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise DestinationRefusedError(f"{host} resolved to something that is not an address: {text!r}") from None
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DestinationRefusedError(f"{host} has no address")
    if not allow_private:
        blocked = sorted({reason for a in addresses if (reason := address_refusal(a))})
        if blocked:
            raise DestinationRefusedError(f"{host} is not a public address ({', '.join(blocked)})")
    return Destination(url=parsed, addresses=tuple(str(a) for a in addresses))


def destination_refusal(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> str | None:
    """Why a request to this URL must not be made (None: it may)."""
    try:
        resolve_destination(url, allow_private=allow_private, resolve=resolve)
    except DestinationRefusedError as exc:
        return str(exc)
    return None


def post_to(
    client: httpx.Client, destination: Destination, *, content: bytes, headers: Mapping[str, str],
    timeout_s: float,
) -> httpx.Response:
    """POST to one of the destination's checked addresses and to no other: the URL's
    host is replaced by the address (no lookup at connect time), `Host` names the real
    host and, for https, so does the TLS server name (SNI and certificate check).
    Redirects are not followed. Raises httpx.HTTPError when no address answered."""
    url = destination.url
    sent_headers = {**headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": destination.server_name} if url.scheme == "https" else {}
    failure: httpx.HTTPError | None = None
    for address in destination.addresses:
        try:
            return client.post(
                url.copy_with(host=address), content=content, headers=sent_headers, timeout=timeout_s,
                extensions=extensions, follow_redirects=False,
            )
        except httpx.ConnectError as exc:  # nothing sent yet: the next address may answer
            failure = exc
    assert failure is not None
    raise failure
