"""Answer envelopes, recognised by their shape: bytes in, payload or a typed error out. Pure.

The platform answers in two envelopes (`{err_no, err_msg, log_id, data}` and
`{data, extra: {error_code, description, logid, ...}}`), not always the one the API page
shows, so [`open_envelope`][douyin_async.http.envelopes.open_envelope] looks for an error in
every place either puts one, and treats any non-2xx status as an error. A missing record list
is a shape error, never an empty page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from ..errors import ApiError, ResponseDecodeError
from .codes import error_for_code, error_for_status

SNIPPET_CHARS = 200
#: Stands in for the body in errors about answers that may hold a token.
HIDDEN_BODY = "(body not shown: it may hold a token)"


def snippet(body: bytes) -> str:
    """The start of a body as text, short enough for an error message."""
    return body[:SNIPPET_CHARS].decode("utf-8", errors="replace")


def _looks_transient(body: bytes, error: orjson.JSONDecodeError) -> bool:
    """A cut JSON body (the parse failed at its very end) or an HTML page from a proxy:
    worth retrying. JSON that fails before its end (`NaN`, nesting too deep, a stray byte)
    would fail the same way again."""
    head = body.lstrip()[:1]
    if head in (b"<", b""):
        return True
    return head in (b"{", b"[") and error.pos >= len(body.rstrip())


def as_code(value: Any) -> int | None:
    """An error code from a JSON value: an int, or digits in a string (None otherwise)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def as_count(value: Any) -> int | None:
    """A count the server reports (`total`, `page_count`): a non-negative int, else None.

    `3.0`, `"3"`, `true` or a missing value are not counts: the caller then falls back to
    rules that do not need one.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


@attrs.frozen
class Envelope:
    """A successful answer: its `data` object (empty when absent) and its `log_id`."""

    data: Mapping[str, Any]
    log_id: str
    has_data: bool
    http_status: int


def parse_json(
    body: bytes, *, http_status: int, endpoint: str, header_log_id: str = "",
    quote_body: bool = True,
) -> dict[str, Any]:
    """Parse an answer body into a JSON object, or raise what its status and shape call for."""
    failure: orjson.JSONDecodeError | None = None
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        obj, failure = None, exc
    if isinstance(obj, dict):
        return obj
    error = error_for_status(http_status, endpoint=endpoint, log_id=header_log_id)
    if error is not None:
        if quote_body and http_status >= 500:
            error.message = f"HTTP {http_status}: {snippet(body)}"
        raise error
    what = "answer is not a JSON object" if obj is not None else "answer is not valid JSON"
    raise ResponseDecodeError(
        what, http_status=http_status, snippet=snippet(body) if quote_body else HIDDEN_BODY,
        endpoint=endpoint, retryable=failure is not None and _looks_transient(body, failure),
        log_id=header_log_id,
    )


def shape_error(message: str, obj: Any, *, http_status: int, endpoint: str,
                quote_body: bool = True, log_id: str = "") -> ResponseDecodeError:
    """A non-retryable error for well-formed JSON of an unexpected shape."""
    text = snippet(orjson.dumps(obj)) if quote_body else HIDDEN_BODY
    return ResponseDecodeError(message, http_status=http_status, snippet=text,
                               endpoint=endpoint, log_id=log_id)


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(*values: Any) -> str:
    return next((v for v in values if isinstance(v, str) and v), "")


def find_error(obj: Mapping[str, Any], *, http_status: int, endpoint: str,
               log_id: str) -> ApiError | ResponseDecodeError | None:
    """The error an answer reports anywhere either envelope puts one, or None."""
    data, extra = _obj(obj.get("data")), _obj(obj.get("extra"))
    places = (
        (obj.get("err_no"), _text(obj.get("err_msg"), obj.get("message"))),
        (obj.get("error_code"), _text(obj.get("description"), obj.get("message"))),
        (data.get("error_code"), _text(data.get("description"), extra.get("description"))),
        (extra.get("error_code"), _text(extra.get("description"), data.get("description"))),
    )
    for raw, message in places:
        code = as_code(raw)
        if raw is not None and code is None:
            return shape_error(f"unreadable error code {raw!r}", dict(obj),
                               http_status=http_status, endpoint=endpoint, log_id=log_id)
        if code:
            sub = as_code(extra.get("sub_error_code")) or None
            return error_for_code(code, message, log_id=log_id, endpoint=endpoint,
                                  http_status=http_status, sub_code=sub,
                                  sub_message=_text(extra.get("sub_description")))
    return None


def open_envelope(
    body: bytes, *, http_status: int, endpoint: str, header_log_id: str = "",
    quote_body: bool = True,
) -> Envelope:
    """Check an answer of either envelope; raise its error, or hand back its `data`.

    An error code anywhere wins (it names the problem); otherwise a status outside 2xx is an
    error of its own ([`error_for_status`][douyin_async.http.codes.error_for_status]).
    """
    obj = parse_json(body, http_status=http_status, endpoint=endpoint,
                     header_log_id=header_log_id, quote_body=quote_body)
    return read_envelope(obj, http_status=http_status, endpoint=endpoint,
                         header_log_id=header_log_id, quote_body=quote_body)


def read_envelope(
    obj: Mapping[str, Any], *, http_status: int, endpoint: str, header_log_id: str = "",
    quote_body: bool = True,
) -> Envelope:
    """[`open_envelope`][douyin_async.http.envelopes.open_envelope] of an answer already
    parsed into its JSON object."""
    extra = _obj(obj.get("extra"))
    log_id = _text(obj.get("log_id"), extra.get("logid"), extra.get("log_id"), header_log_id)
    error: ApiError | ResponseDecodeError | None = find_error(
        obj, http_status=http_status, endpoint=endpoint, log_id=log_id)
    if error is None:
        error = error_for_status(http_status, endpoint=endpoint, log_id=log_id)
    if error is not None:
        raise error
    known = ("err_no", "error_code", "data", "extra")
    if not any(key in obj for key in known):
        raise shape_error("answer is in neither envelope", obj, http_status=http_status,
                          endpoint=endpoint, quote_body=quote_body, log_id=log_id)
    data = obj.get("data")
    if data is not None and not isinstance(data, dict):
        raise shape_error("data is not an object", obj, http_status=http_status,
                          endpoint=endpoint, quote_body=quote_body, log_id=log_id)
    return Envelope(data or {}, log_id, isinstance(data, dict), http_status)


def record_list(envelope: Envelope, key: str, *, endpoint: str) -> list[Any]:
    """The record list `data[key]`; `null` is an empty list (a Go server's nil slice).

    Its absence (no `data`, or `data` without the key) is a retryable shape error, never an
    empty page: such an answer comes from something between the client and the API (a
    gateway, a proxy), and reading it as "no more records" would end a pull short.
    """
    if key in envelope.data and envelope.data[key] is None:
        return []
    records = envelope.data.get(key)
    if not isinstance(records, list):
        missing = key not in envelope.data
        raise ResponseDecodeError(
            f"data.{key} {'is missing' if missing else 'is not a list'}",
            http_status=envelope.http_status, snippet=snippet(orjson.dumps(envelope.data)),
            endpoint=endpoint, log_id=envelope.log_id, retryable=missing)
    return records


__all__ = [
    "HIDDEN_BODY",
    "Envelope",
    "as_code",
    "as_count",
    "find_error",
    "open_envelope",
    "parse_json",
    "read_envelope",
    "record_list",
    "shape_error",
    "snippet",
]
