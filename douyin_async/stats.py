"""Counters a client keeps while it works (read them for progress displays)."""

from __future__ import annotations

import attrs


@attrs.define
class ClientStats:
    """Running totals since the client was created."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    pages: int = 0
    records: int = 0
    wasted_requests: int = 0
    errors: int = 0
