"""From parsed arguments to a validated pull: queries, output, server and pacing options.

Every check that needs no network happens here, with the library's own query classes and its
90-day rule, so bad input fails before the first request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import time
from typing import Any

import attrs

from ..errors import InvalidParameterError
from ..models import Query, TalentMediaQuery, TaskVideoQuery
from .apps import AppSpec, load_apps
from .exits import FILES, USAGE, CliError

_UNIX = re.compile(r"^\d{1,12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".sqlite": "sqlite", ".db": "sqlite"}
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: Longest billing-date range one command accepts.
MAX_BILLING_DAYS = 366


@attrs.frozen
class SandboxOptions:
    """Settings of an embedded sandbox (None fields keep the sandbox's defaults)."""

    latency: float | None = None
    fault_rate: float | dict[str, float] | None = None
    seed: int | None = None
    qps: int | None = None


@attrs.frozen
class PullSpec:
    """Everything a pull needs, validated."""

    kind: str
    queries: tuple[Query, ...]
    params: dict[str, Any]
    out: str
    fmt: str
    base_url: str | None
    sandbox: SandboxOptions | None
    access_token_file: str | None
    #: The apps of ``--apps`` (None: one app, credentials from the options or environment).
    apps: tuple[AppSpec, ...] | None
    #: ``--redis-url`` / ``$DOUYIN_REDIS_URL``: share each app's quota through Redis.
    redis_url: str | None
    rate_limit: float
    max_concurrency: int
    timeout: float
    max_retries: int
    resume: bool
    force: bool
    quiet: bool
    progress_interval: float


def parse_billing_dates(text: str) -> list[dt.date]:
    """``YYYY-MM-DD`` or an inclusive range ``A..B``, as a list of dates."""
    first, sep, last = (part.strip() for part in text.partition(".."))
    try:
        start = dt.date.fromisoformat(first) if _DATE.match(first) else None
        end = start if not sep else dt.date.fromisoformat(last) if _DATE.match(last) else None
    except ValueError as exc:
        raise CliError(f"--billing-date {text!r}: {exc}", USAGE) from None
    if start is None or end is None:
        raise CliError(f"--billing-date {text!r}: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
                       USAGE)
    if end < start:
        raise CliError(f"--billing-date {text!r}: the range ends before it starts", USAGE)
    days = (end - start).days + 1
    if days > MAX_BILLING_DAYS:
        raise CliError(f"--billing-date {text!r}: {days} days; at most {MAX_BILLING_DAYS}",
                       USAGE)
    return [start + dt.timedelta(days=i) for i in range(days)]


def parse_time(text: str, option: str, *, end_of_day: bool = False) -> int:
    """Unix seconds from unix seconds, ``YYYY-MM-DD`` (UTC) or an ISO datetime with offset.

    A bare date means 00:00:00 UTC, or 23:59:59 UTC with ``end_of_day``.
    """
    text = text.strip()
    if _UNIX.match(text):
        return int(text)
    try:
        if _DATE.match(text):
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time(23, 59, 59) if end_of_day else dt.time(),
                                         dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{option} {text!r}: {exc}", USAGE) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CliError(f"{option} {text!r}: a datetime needs an offset, e.g. +08:00 or Z", USAGE)
    return int(moment.timestamp())


def read_ids_file(path: str) -> list[str]:
    """Douyin ids from a file: one per line, blank lines and ``#`` comments skipped."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CliError(f"cannot read --douyin-ids-file {path!r}: {reason}", FILES) from None
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _check_ids(ids: list[str], option: str) -> list[str]:
    for value in ids:
        if not value.strip():
            raise CliError(f"{option}: empty id", USAGE)
    return _unique([value.strip() for value in ids])


def _task_video_queries(ns: argparse.Namespace) -> tuple[list[Query], dict[str, Any]]:
    dates = parse_billing_dates(ns.billing_date)
    start = parse_time(ns.published_from, "--published-from")
    end = parse_time(ns.published_to, "--published-to", end_of_day=True)
    if end < start:
        raise CliError("--published-to is before --published-from", USAGE)
    authors: list[str | None] = list(_check_ids(ns.douyin_id or [], "--douyin-id")) or [None]
    agency = ns.agency_client_key
    if agency is not None and not agency.strip():
        raise CliError("--agency-client-key: empty value", USAGE)
    now = time.time()
    queries: list[Query] = []
    for day in dates:
        for author in authors:
            query = TaskVideoQuery(billing_date=day, video_publish_start_time=start,
                                   video_publish_end_time=end, douyin_id=author,
                                   agency_client_key=agency, page_size=ns.page_size)
            query.check_age(now)
            queries.append(query)
    params = {"billing_dates": [d.isoformat() for d in dates], "published_from": start,
              "published_to": end, "douyin_ids": authors, "agency_client_key": agency,
              "page_size": ns.page_size}
    return queries, params


def _talent_media_queries(ns: argparse.Namespace) -> tuple[list[Query], dict[str, Any]]:
    ids = list(ns.douyin_id or [])
    if ns.douyin_ids_file is not None:
        from_file = read_ids_file(ns.douyin_ids_file)
        if not from_file:
            raise CliError(f"--douyin-ids-file {ns.douyin_ids_file!r} holds no ids", USAGE)
        ids.extend(from_file)
    if not ids:
        raise CliError("no talents: give --douyin-id or --douyin-ids-file", USAGE)
    talents = _check_ids(ids, "--douyin-id")
    plans = _unique(ns.plan_id)
    queries: list[Query] = [
        TalentMediaQuery(plan_id=plan, douyin_id=talent, content_type=ns.content_type,
                         page_size=ns.page_size)
        for plan in plans for talent in talents
    ]
    params = {"plan_ids": plans, "douyin_ids": talents, "content_type": ns.content_type,
              "page_size": ns.page_size}
    return queries, params


def output_format(out: str) -> str:
    """``jsonl``, ``csv`` or ``sqlite`` from the output name (``-`` is JSONL on stdout)."""
    if out == "-":
        return "jsonl"
    fmt = _FORMATS.get(os.path.splitext(out)[1].lower())
    if fmt is None:
        raise CliError(f"--out {out!r}: unknown extension; use .jsonl, .csv, .sqlite, .db or -",
                       USAGE)
    return fmt


def redis_url_option(ns: argparse.Namespace) -> str | None:
    """``--redis-url`` or ``$DOUYIN_REDIS_URL``, checked (never echoed: it may hold a password)."""
    url: str
    if ns.redis_url is not None:
        url = str(ns.redis_url).strip()
    else:
        url = os.environ.get("DOUYIN_REDIS_URL", "").strip()
        if not url:
            return None
    if not url.startswith(_REDIS_SCHEMES):
        raise CliError("--redis-url must start with redis://, rediss:// or unix://", USAGE)
    return url


def build_spec(ns: argparse.Namespace) -> PullSpec:
    """Validate the arguments of a ``pull`` command (no network, no files written)."""
    fmt = output_format(ns.out)
    if ns.out == "-" and ns.resume:
        raise CliError("--resume needs an output file, not stdout", USAGE)
    base_url = ns.base_url or os.environ.get("DOUYIN_BASE_URL") or None
    if not ns.sandbox and base_url is None:
        raise CliError("no server: give --base-url URL, set DOUYIN_BASE_URL, or use --sandbox",
                       USAGE)
    if base_url is not None and not ns.sandbox \
            and not base_url.startswith(("http://", "https://")):
        raise CliError(f"--base-url must be an http(s) URL, got {base_url!r}", USAGE)
    sandbox_opts = [ns.sandbox_latency, ns.sandbox_fault_rate, ns.sandbox_seed, ns.sandbox_qps]
    if not ns.sandbox and any(v is not None for v in sandbox_opts):
        raise CliError("--sandbox-* options need --sandbox", USAGE)
    try:
        if ns.kind == "task-videos":
            queries, params = _task_video_queries(ns)
        elif ns.kind == "bills":
            queries, params = [], ns.bill_params(ns)  # set by the bills subparser
        else:
            queries, params = _talent_media_queries(ns)
    except InvalidParameterError as exc:
        raise CliError(str(exc), USAGE) from None
    redis_url = redis_url_option(ns)
    apps = None
    if ns.apps is not None:
        if ns.access_token_file is not None:
            raise CliError("--apps and --access-token-file exclude each other: give each app "
                           "its credentials in the apps file", USAGE)
        apps = load_apps(ns.apps)
        # Names only: a resumed pull must cover the same apps, whatever their credentials.
        params["apps"] = sorted(app.name for app in apps)
    return PullSpec(
        kind=ns.kind, queries=tuple(queries), params={"kind": ns.kind, "format": fmt, **params},
        out=ns.out, fmt=fmt, base_url=None if ns.sandbox else base_url,
        sandbox=SandboxOptions(ns.sandbox_latency, ns.sandbox_fault_rate, ns.sandbox_seed,
                               ns.sandbox_qps) if ns.sandbox else None,
        access_token_file=ns.access_token_file, apps=apps, redis_url=redis_url,
        rate_limit=ns.rate_limit,
        max_concurrency=ns.max_concurrency, timeout=ns.timeout, max_retries=ns.max_retries,
        resume=ns.resume, force=ns.force, quiet=ns.quiet,
        progress_interval=ns.progress_interval,
    )
