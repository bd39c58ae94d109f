"""The file host the bill links point at: signed, expiring URLs, Range requests and faults.

A link is ``{origin}/files/bills/{scope}/{kind}/{bill_date}.csv?x-expires={unix
seconds}&x-signature={hex}`` with ``scope`` ``developer`` or ``agency`` and ``kind`` ``video``
or ``live``; the signature is an HMAC-SHA256 (keyed by the seed) of the path and the expiry.
The file host is not an Open Platform endpoint: it takes no access token, has no QPS cap and
no latency.

Answers: 200 with the whole file, or 206 for a satisfiable single ``bytes=`` range
(``Content-Range``, ``Accept-Ranges: bytes``; an ``If-Range`` that does not match the ETag,
several ranges, or ``bill_ranges=False`` give the whole file instead); 416 for a range past
the end; 403 (XML body) for a bad signature, or once the sandbox clock reaches ``x-expires``;
404 for an unknown path. Faults (GET only, at most ``bill_fault_limit`` of them): 503, or a
transfer cut (the connection closed mid-body, after ``bill_cut_after`` bytes or at a random
point with ``bill_cut_rate``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
from typing import cast

import attrs
from aiohttp import web

from .bills import KINDS, BillFile, BillKind
from .config import SandboxConfig
from .data import SandboxData
from .hashing import Hasher
from .requestlog import BILL_FILE, OK, LogEntry, RequestLog

FILE_ROUTE = "/files/bills/{scope}/{kind}/{name}"
SCOPES = {"developer": False, "agency": True}
_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.csv")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def bill_path(bill_date: dt.date, agency: bool, kind: str) -> str:
    """The path of one bill file on the file host."""
    scope = "agency" if agency else "developer"
    return f"/files/bills/{scope}/{kind}/{bill_date.isoformat()}.csv"


def _xml(code: str, message: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>\n")


@attrs.define(eq=False)
class FileHost:
    """Signs links and serves the files they point at; ``faults`` counts injected faults."""

    config: SandboxConfig
    data: SandboxData
    log: RequestLog
    faults: int = 0
    _key: bytes = attrs.field(init=False)
    _etag: Hasher = attrs.field(init=False)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        seed = self.config.seed
        self._key = Hasher(seed, "bill-sign").raw(32, "key")
        self._etag = Hasher(seed, "bill-etag")
        self._rng = random.Random(f"bill-faults:{seed}")

    def signature(self, path: str, expires: int) -> str:
        """The ``x-signature`` of a path valid until ``expires``."""
        return hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def link(self, origin: str, bill_date: dt.date, agency: bool, kind: str, now: float) -> str:
        """A signed link to one file, valid ``bill_link_lifetime`` seconds from ``now``."""
        path = bill_path(bill_date, agency, kind)
        expires = int(now) + self.config.bill_link_lifetime
        return f"{origin}{path}?x-expires={expires}&x-signature={self.signature(path, expires)}"

    def etag(self, f: BillFile) -> str:
        """A strong ETag for one file's exact bytes."""
        tag = self._etag.bits(f.bill_date.toordinal(), f.agency, f.kind, f.rows, f.encoding)
        return f'"{tag & (2**64 - 1):016x}"'

    def _refuse(self, entry: LogEntry, status: int, outcome: str, code: str, message: str
                ) -> web.Response:
        entry.outcome, entry.http_status = outcome, status
        return web.Response(status=status, text=_xml(code, message),
                            content_type="application/xml")

    def _fault(self, body_length: int) -> tuple[str | None, int]:
        """``(kind, cut_at)``: the fault of one GET, if any."""
        cfg = self.config
        if cfg.bill_fault_limit is not None and self.faults >= cfg.bill_fault_limit:
            return None, 0
        u = self._rng.random()
        kind: str | None = None
        cut_at = 0
        if u < cfg.bill_error_rate:
            kind = "server_error"
        elif u < cfg.bill_error_rate + cfg.bill_cut_rate and body_length > 1:
            kind, cut_at = "cut", self._rng.randrange(1, body_length)
        elif cfg.bill_cut_after is not None and body_length > cfg.bill_cut_after:
            kind, cut_at = "cut", cfg.bill_cut_after
        if kind is not None:
            self.faults += 1
        return kind, cut_at

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one GET or HEAD of a bill file."""
        cfg = self.config
        entry = self.log.add(cfg.monotonic(), cfg.clock(), BILL_FILE,
                             request.headers.get("access-token"))
        scope, kind = request.match_info["scope"], request.match_info["kind"]
        name = _NAME.fullmatch(request.match_info["name"])
        if scope not in SCOPES or kind not in KINDS or name is None:
            return self._refuse(entry, 404, "not_found", "NoSuchKey", "The key does not exist")
        try:
            bill_date = dt.date.fromisoformat(name.group(1))
            expires = int(request.query.get("x-expires", ""))
        except ValueError:
            return self._refuse(entry, 403, "bad_signature", "AccessDenied",
                                "Signature does not match")
        signature = request.query.get("x-signature", "")
        if not hmac.compare_digest(signature, self.signature(request.path, expires)):
            return self._refuse(entry, 403, "bad_signature", "AccessDenied",
                                "Signature does not match")
        if cfg.clock() >= expires:
            return self._refuse(entry, 403, "expired", "AccessDenied", "Request has expired")
        f = self.data.bill_file(bill_date, SCOPES[scope], cast(BillKind, kind))
        etag = self.etag(f)
        first, last = 0, f.size - 1
        status = 200
        wanted = request.headers.get("Range")
        if cfg.bill_ranges and wanted and request.headers.get("If-Range", etag) == etag:
            parsed = _parse_range(wanted, f.size)
            if parsed == "unsatisfiable":
                entry.outcome, entry.http_status = "unsatisfiable", 416
                return web.Response(status=416, headers={"Content-Range": f"bytes */{f.size}"})
            if isinstance(parsed, tuple):
                first, last = parsed
                status = 206
        headers = {"Content-Type": "text/csv", "ETag": etag}
        if cfg.bill_ranges:
            headers["Accept-Ranges"] = "bytes"
        if status == 206:
            headers["Content-Range"] = f"bytes {first}-{last}/{f.size}"
        length = last - first + 1
        fault, cut_at = (None, 0) if request.method == "HEAD" else self._fault(length)
        entry.fault = fault
        if fault == "server_error":
            return self._refuse(entry, 503, "server_error", "ServiceUnavailable",
                                "Please reduce your request rate")
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = length
        entry.http_status, entry.byte_range = status, (first, last)
        await response.prepare(request)
        if request.method == "HEAD":
            entry.outcome = OK
            return response
        stop = last + 1 if fault is None else first + cut_at
        for block in self.data.bill_files.read(f, first, stop):
            await response.write(block)
        if fault == "cut":
            entry.outcome = "cut"
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        entry.outcome = OK
        return response


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """A single ``bytes=`` range as ``(first, last)``; None to ignore it (send the whole
    file); ``"unsatisfiable"`` for a range past the end."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    a, b = match.groups()
    if not a and not b:
        return None
    if not a:
        suffix = int(b)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    first = int(a)
    last = size - 1 if not b else min(int(b), size - 1)
    if b and int(b) < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, last
