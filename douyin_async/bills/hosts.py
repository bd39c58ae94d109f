"""Where a bill file may be fetched from: the checks of a signed link and of each redirect.

A bill link comes from the server, so it is not trusted to point anywhere: by default it must
be `https` on the default port, and its host must be public. Loopback, private, link-local and
other non-public addresses are refused, whether the link names one directly or its host name
resolves to one ([`PublicResolver`][douyin_async.bills.hosts.PublicResolver], which the
client's file transport resolves every host name with, redirects included). Hosts the user
names in `bill_hosts_allowed` (a sandbox, a private mirror) are exempt: any address, any port,
`http` too. A redirect never changes the scheme. Failures raise
[`UnsafeLinkError`][douyin_async.errors.UnsafeLinkError].
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ..errors import UnsafeLinkError

#: Redirects a bill download follows at most, each checked like the link itself.
MAX_BILL_REDIRECTS = 3


def unsafe_link(why: str, host: str, endpoint: str) -> UnsafeLinkError:
    """The error of a refused link or redirect (`why` it was refused)."""
    error = UnsafeLinkError(f"bill link refused: {why}", endpoint=endpoint)
    error.host = host
    return error


def allowed_hosts(hosts: Iterable[str] | str | None) -> frozenset[str]:
    """Host names (or IP addresses) as given to `bill_hosts_allowed`, normalised."""
    if hosts is None:
        return frozenset()
    if isinstance(hosts, str):
        hosts = [hosts]
    return frozenset(host.strip().strip("[]").lower().rstrip(".") for host in hosts if host)


def server_host(base_url: str) -> list[str]:
    """The API server's own host, as `bill_hosts_allowed`: a command pointed at a server
    (the sandbox, a private test server) takes that server's bill files too."""
    return [urlsplit(base_url).hostname or ""]


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_link(url: str, allowed: frozenset[str], *, scheme: str | None = None,
               endpoint: str = "bill link") -> None:
    """Refuse a link (or a redirect target, whose scheme must be `scheme`) that is not
    `https` on the default port of a public host, unless its host is in `allowed`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = -1
    why = ""
    if parts.scheme not in ("http", "https") or not host:
        why = "not an http(s) URL with a host"
    elif scheme is not None and parts.scheme != scheme:
        why = f"a redirect from {scheme} to {parts.scheme}"
    elif host in allowed:
        return
    elif parts.scheme != "https":
        why = "plain http (only https is fetched unless the host is allowed)"
    elif port not in (None, 443):
        why = f"port {port} (only the default port unless the host is allowed)"
    elif _ip(host) and not _public(host):
        why = f"a non-public address ({host})"
    if why:
        raise unsafe_link(why, host, endpoint)


class PublicResolver(AbstractResolver):
    """Resolves host names to public addresses only (hosts in `allowed` to any address).

    A name that resolves to no public address is refused with
    [`UnsafeLinkError`][douyin_async.errors.UnsafeLinkError]: the connection is never made,
    so a link or a redirect cannot reach an internal service through DNS.
    """

    def __init__(self, allowed: frozenset[str] = frozenset(),
                 resolver: AbstractResolver | None = None) -> None:
        self.allowed = allowed
        self._resolver = resolver  # the default one is made in the running loop, on first use

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The addresses of `host`, the non-public ones left out unless it is allowed."""
        if self._resolver is None:
            self._resolver = DefaultResolver()
        found = await self._resolver.resolve(host, port, family)
        if host.lower().rstrip(".") in self.allowed:
            return found
        public = [one for one in found if _public(one["host"])]
        if not public:
            raise unsafe_link(f"{host} resolves to no public address", host, "bill link")
        return public

    async def close(self) -> None:
        """Release the wrapped resolver."""
        if self._resolver is not None:
            await self._resolver.close()


__all__ = ["MAX_BILL_REDIRECTS", "PublicResolver", "allowed_hosts", "check_link", "server_host",
           "unsafe_link"]
