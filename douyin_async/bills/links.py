"""The bill-link endpoints: the settlement-date rule, the request and the answer. Pure.

Developers ask `POST /api/match/v2/taskbox/query_bill_link/`, agencies
`POST /api/match/v2/taskbox/agency_query_bill_link/` (scope `taskbox.agent.admin`); both take
`{"bill_date": "YYYY-MM-DD"}` and answer the `err_no` envelope with
`data: {bill_link, live_bill_link}`: signed links that expire at their `x-expires`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from ..days import BEIJING, beijing_day
from ..errors import InvalidParameterError
from ..http.envelopes import open_envelope, shape_error
from .records import BillKind

#: Developer and agency endpoints of the bill links.
BILL_LINK_ENDPOINT = "/api/match/v2/taskbox/query_bill_link/"
AGENCY_BILL_LINK_ENDPOINT = "/api/match/v2/taskbox/agency_query_bill_link/"
#: Settlement dates further back than this many days are refused before any request.
MAX_BILL_AGE_DAYS = 180


def bill_date_of(value: object, now: float) -> dt.date:
    """A settlement date, checked: a `datetime.date` or `'YYYY-MM-DD'`, before today and at
    most [`MAX_BILL_AGE_DAYS`][douyin_async.bills.links.MAX_BILL_AGE_DAYS] days back (both in
    Beijing
    time at unix time `now`). Raises
    [`InvalidParameterError`][douyin_async.errors.InvalidParameterError]."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            value = None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidParameterError(f"bill_date must be a datetime.date or 'YYYY-MM-DD', "
                                    f"got {value!r}")
    today = beijing_day(now)
    if value >= today:
        raise InvalidParameterError(
            f"bill_date {value} is not over yet in Beijing time (today is {today}): its bill "
            "file is generated after the day ends")
    if (today - value).days > MAX_BILL_AGE_DAYS:
        raise InvalidParameterError(
            f"bill_date {value} is more than {MAX_BILL_AGE_DAYS} days ago: the platform keeps "
            f"bill files of the latest {MAX_BILL_AGE_DAYS} days only (today is {today})")
    return value


def bill_link_endpoint(agency: bool) -> str:
    """The path of the bill-link endpoint for a developer (or an agency)."""
    return AGENCY_BILL_LINK_ENDPOINT if agency else BILL_LINK_ENDPOINT


def bill_link_body(bill_date: dt.date) -> dict[str, Any]:
    """The request body of both bill-link endpoints."""
    return {"bill_date": bill_date.isoformat()}


def link_expiry(url: str | None) -> dt.datetime | None:
    """When a signed link expires, from its `x-expires` (unix seconds), in Beijing time; None
    when the link carries none."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("x-expires")
    if not values or not values[0].isascii() or not values[0].isdigit():
        return None
    try:
        return dt.datetime.fromtimestamp(int(values[0]), BEIJING)
    except (ValueError, OverflowError, OSError):
        return None


@attrs.frozen
class BillLinks:
    """The answer of a bill-link endpoint: the signed download links of one settlement date.

    `bill_link` is the video file, `live_bill_link` the live-room file (None when the answer
    has none); each `*_expires` is the link's `x-expires` as an aware datetime (None when the
    link carries none). Links are credentials of a kind: they are hidden from the repr.
    """

    bill_date: dt.date
    bill_link: str | None = attrs.field(repr=False)
    live_bill_link: str | None = attrs.field(repr=False)
    bill_link_expires: dt.datetime | None
    live_bill_link_expires: dt.datetime | None
    log_id: str

    def link(self, kind: BillKind) -> str | None:
        """The link of the `"video"` or `"live"` file."""
        return self.live_bill_link if kind == "live" else self.bill_link

    def expires(self, kind: BillKind) -> dt.datetime | None:
        """When the link of the `"video"` or `"live"` file expires."""
        return self.live_bill_link_expires if kind == "live" else self.bill_link_expires


def links_from(data: Mapping[str, Any], *, log_id: str, bill_date: dt.date, endpoint: str,
               http_status: int = 200) -> BillLinks:
    """The links of an answer's `data` (`bill_link`, `live_bill_link`); at least one must be
    there. Errors never quote the answer: its links are signed."""
    links: list[str | None] = []
    for name in ("bill_link", "live_bill_link"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise shape_error(f"{name} is not a string", data, http_status=http_status,
                              endpoint=endpoint, quote_body=False, log_id=log_id)
        links.append(value or None)
    if links[0] is None and links[1] is None:
        raise shape_error("answer holds no bill_link and no live_bill_link", data,
                          http_status=http_status, endpoint=endpoint, quote_body=False,
                          log_id=log_id)
    return BillLinks(bill_date, links[0], links[1], link_expiry(links[0]),
                     link_expiry(links[1]), log_id)


def decode_bill_links(body: bytes, *, http_status: int, endpoint: str, bill_date: dt.date,
                      header_log_id: str = "") -> BillLinks:
    """Decode a bill-link answer (the `err_no` envelope) or raise its typed error."""
    envelope = open_envelope(body, http_status=http_status, endpoint=endpoint,
                             header_log_id=header_log_id, quote_body=False)
    return links_from(envelope.data, log_id=envelope.log_id, bill_date=bill_date,
                      endpoint=endpoint, http_status=http_status)


__all__ = [
    "AGENCY_BILL_LINK_ENDPOINT",
    "BILL_LINK_ENDPOINT",
    "MAX_BILL_AGE_DAYS",
    "BillLinks",
    "bill_date_of",
    "bill_link_body",
    "bill_link_endpoint",
    "decode_bill_links",
    "link_expiry",
    "links_from",
]
