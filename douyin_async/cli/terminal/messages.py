"""Client errors told in the command line's terms: the URL asked, the option to check.

The library's messages name endpoints and aiohttp's exception texts; on the command line a
404 names the URL that was requested and a refused connection says so plainly. Everything
else keeps the library's message (code, server text, log id), which never holds a token.
"""

from __future__ import annotations

import re

from ...errors import ApiError, DouyinError, ResponseDecodeError, TransportError

# aiohttp's own text, and the transport's "cannot connect to HOST:PORT (REASON)".
_CONNECT = (re.compile(r"Cannot connect to host (?P<host>\S+) ssl:\S+ \[(?P<reason>[^\]]*)\]"),
            re.compile(r"^cannot connect to (?P<host>\S+?)(?: \((?P<reason>.*)\))?$"))
_REASONS = (
    ("Connect call failed", "connection refused"),
    ("Connection refused", "connection refused"),
    ("Name or service not known", "unknown host name"),
    ("nodename nor servname", "unknown host name"),
    ("Temporary failure in name resolution", "the host name could not be resolved"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
)


def _attempts(error: DouyinError) -> str:
    return f" after {error.attempts} attempts" if error.attempts > 1 else ""


def request_url(base_url: str, endpoint: str) -> str:
    """The URL of ``endpoint`` (a path) on ``base_url``."""
    return base_url.rstrip("/") + "/" + endpoint.lstrip("/")


def describe(error: DouyinError, base_url: str | None) -> str:
    """The one line to show for ``error`` of a pull from ``base_url``."""
    if base_url and isinstance(error, ApiError | ResponseDecodeError) and error.endpoint \
            and error.http_status == 404:
        return (f"HTTP 404 Not Found: {request_url(base_url, error.endpoint)}; is --base-url "
                "the API's root (e.g. https://open.douyin.com)?")
    if isinstance(error, TransportError) and base_url and error.args:
        text = str(error.args[0])
        match = next((m for m in (p.search(text) for p in _CONNECT) if m is not None), None)
        if match is not None:
            given = match["reason"] or ""
            if "TLS" in given or "SSL" in given or "certificate" in given:
                return f"cannot connect to {base_url}: {given}{_attempts(error)}"
            reason = next((plain for raw, plain in _REASONS if raw in given),
                          given.strip() or "connection failed")
            return f"cannot connect to {base_url}: {reason}{_attempts(error)}"
    return str(error)


__all__ = ["describe", "request_url"]
