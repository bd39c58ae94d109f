"""The two answer envelopes, decoded by pure functions: bytes in, payload or typed error out.

Task videos:   ``{err_no, err_msg, log_id, data: {video_daily_data_list: [...]}}``
Talent media:  ``{data: {error_code, description, total, page_count, date, data: [...]},
                 extra: {error_code, description, logid, now, sub_error_code, sub_description}}``

No function here touches a socket; the client hands them the status and the body.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from .errors import ApiError, RateLimitedError, ResponseDecodeError, ServerError, error_for_code

SNIPPET_CHARS = 200
#: Stands in for the body in errors about answers that may hold a token.
HIDDEN_BODY = "(body not shown: it may hold a token)"


def snippet(body: bytes) -> str:
    """The start of a body as text, short enough for an error message."""
    return body[:SNIPPET_CHARS].decode("utf-8", errors="replace")


def _looks_transient(body: bytes) -> bool:
    """A cut JSON body or an HTML page from a proxy: worth retrying."""
    head = body.lstrip()[:1]
    return head in (b"{", b"[", b"<", b"")


def http_status_error(http_status: int, endpoint: str, log_id: str = "") -> ApiError | None:
    """The error an HTTP status means on its own (5xx, 429), or None."""
    if http_status >= 500:
        return ServerError(0, f"HTTP {http_status}", endpoint=endpoint,
                           http_status=http_status, log_id=log_id)
    if http_status == 429:
        return RateLimitedError(0, "HTTP 429 Too Many Requests", endpoint=endpoint,
                                http_status=http_status, log_id=log_id)
    return None


def parse_json(
    body: bytes,
    *,
    http_status: int,
    endpoint: str,
    header_log_id: str = "",
    quote_body: bool = True,
) -> dict[str, Any]:
    """Parse an answer body, raising the error its status and shape call for.

    A 5xx answer that is not a JSON envelope is a :class:`ServerError`; a 429 is a
    :class:`RateLimitedError`; any other undecodable body is a :class:`ResponseDecodeError`,
    retryable when it looks cut or is an HTML error page. With ``quote_body=False`` no error
    quotes the body (token endpoints).
    """
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        return obj
    error = http_status_error(http_status, endpoint, header_log_id)
    if error is not None:
        if quote_body and isinstance(error, ServerError):
            error.message = f"HTTP {http_status}: {snippet(body)}"
        raise error
    what = "answer is not a JSON object" if obj is not None else "answer is not valid JSON"
    raise ResponseDecodeError(
        what,
        http_status=http_status,
        snippet=snippet(body) if quote_body else HIDDEN_BODY,
        endpoint=endpoint,
        retryable=obj is None and _looks_transient(body),
    )


def shape_error(
    message: str, obj: Any, *, http_status: int, endpoint: str, quote_body: bool = True
) -> ResponseDecodeError:
    """A non-retryable error for well-formed JSON of an unexpected shape."""
    text = snippet(orjson.dumps(obj)) if quote_body else HIDDEN_BODY
    return ResponseDecodeError(message, http_status=http_status, snippet=text,
                               endpoint=endpoint)


def as_int(value: Any, default: int = 0) -> int:
    """An int from a JSON value that should hold one (digits in a string accepted)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def err_no_data(
    obj: dict[str, Any],
    *,
    http_status: int,
    endpoint: str,
    header_log_id: str = "",
    quote_body: bool = True,
) -> tuple[dict[str, Any], str]:
    """Check an ``{err_no, err_msg, log_id, data}`` envelope; answer ``(data, log_id)``."""
    log_id = str(obj.get("log_id") or header_log_id)
    if "err_no" not in obj:
        error = http_status_error(http_status, endpoint, log_id)
        if error is not None:
            raise error
        raise shape_error("answer has no err_no", obj, http_status=http_status,
                          endpoint=endpoint, quote_body=quote_body)
    code = as_int(obj.get("err_no"), default=-1)
    if code != 0:
        raise error_for_code(code, str(obj.get("err_msg") or ""), log_id=log_id,
                             endpoint=endpoint, http_status=http_status)
    error = http_status_error(http_status, endpoint, log_id)
    if error is not None:
        raise error
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise shape_error("data is not an object", obj, http_status=http_status,
                          endpoint=endpoint, quote_body=quote_body)
    return data, log_id


@attrs.frozen
class TaskVideoAnswer:
    """A successful task-video answer: its raw records and log id."""

    records: list[dict[str, Any]]
    log_id: str


@attrs.frozen
class TalentMediaAnswer:
    """A successful talent-media answer: raw records, log id and the server's totals."""

    records: list[dict[str, Any]]
    log_id: str
    total: int
    page_count: int
    date: str


def decode_task_video(
    body: bytes, *, http_status: int, endpoint: str, header_log_id: str = ""
) -> TaskVideoAnswer:
    """Decode a task-video answer or raise the matching error."""
    obj = parse_json(body, http_status=http_status, endpoint=endpoint,
                     header_log_id=header_log_id)
    data, log_id = err_no_data(obj, http_status=http_status, endpoint=endpoint,
                               header_log_id=header_log_id)
    records = data.get("video_daily_data_list") or []
    if not isinstance(records, list):
        raise shape_error("video_daily_data_list is not a list", obj,
                          http_status=http_status, endpoint=endpoint)
    return TaskVideoAnswer(records=records, log_id=log_id)


def decode_talent_media(
    body: bytes, *, http_status: int, endpoint: str, header_log_id: str = ""
) -> TalentMediaAnswer:
    """Decode a talent-media answer or raise the matching error."""
    obj = parse_json(body, http_status=http_status, endpoint=endpoint,
                     header_log_id=header_log_id)
    data = obj.get("data")
    extra = obj.get("extra")
    if not isinstance(extra, dict):
        extra = {}
    log_id = str(extra.get("logid") or extra.get("log_id") or header_log_id)
    if not isinstance(data, dict):
        error = http_status_error(http_status, endpoint, log_id)
        if error is not None:
            raise error
        raise shape_error("answer has no data object", obj, http_status=http_status,
                          endpoint=endpoint)
    code = as_int(data.get("error_code")) or as_int(extra.get("error_code"))
    if code != 0:
        sub_code = as_int(extra.get("sub_error_code")) or None
        raise error_for_code(
            code,
            str(data.get("description") or extra.get("description") or ""),
            log_id=log_id,
            endpoint=endpoint,
            http_status=http_status,
            sub_code=sub_code,
            sub_message=str(extra.get("sub_description") or ""),
        )
    error = http_status_error(http_status, endpoint, log_id)
    if error is not None:
        raise error
    records = data.get("data") or []
    if not isinstance(records, list):
        raise shape_error("data.data is not a list", obj, http_status=http_status,
                          endpoint=endpoint)
    return TalentMediaAnswer(
        records=records,
        log_id=log_id,
        total=as_int(data.get("total")),
        page_count=as_int(data.get("page_count")),
        date=str(data.get("date") or ""),
    )
