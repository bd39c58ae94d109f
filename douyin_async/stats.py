"""Counters a client keeps while it works (read them for progress displays and metrics)."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define
class ClientStats:
    """Running totals since the client was created, and a few live gauges.

    Totals: ``requests`` sent, ``retries``, ``rate_limited`` answers, ``pages`` and
    ``records`` delivered, ``wasted_requests`` (pages asked past the end), ``errors``
    raised, ``cache_hits`` / ``cache_misses`` (page cache lookups), ``shared_flights``
    (calls answered by joining an identical call in flight), ``queue_timeouts`` (calls
    refused by admission with a [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError],
    nothing sent) of which ``queue_timeouts_late`` were refused after queueing;
    ``saved_requests`` (requests not sent: refused, a stream's pages refused with it, or
    their caller gone while they waited for a slot) and ``saved_decodes`` (answers not
    decoded: their caller went away, or no longer needed the page, while the request was in
    flight or being decoded).

    Gauges (the state now): ``queued`` calls waiting for a request slot (of them
    ``queued_background`` in the background lane), ``estimated_wait`` seconds a new
    interactive call would wait for its slot, ``in_flight`` requests sent and not yet
    answered.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    pages: int = 0
    records: int = 0
    wasted_requests: int = 0
    errors: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    shared_flights: int = 0
    queue_timeouts: int = 0
    queue_timeouts_late: int = 0
    saved_requests: int = 0
    saved_decodes: int = 0
    queued: int = 0
    queued_background: int = 0
    estimated_wait: float = 0.0
    in_flight: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Every field by name (for a metrics exporter or a JSON status page)."""
        return attrs.asdict(self)
