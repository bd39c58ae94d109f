"""From parsed arguments to a validated pull: queries, output, server and pacing options.

Every check that needs no network happens here, with the library's own query classes and its
90-day rule, so bad input fails before the first request.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import Any

import attrs

from ..bills.links import bill_date_of
from ..errors import InvalidParameterError
from ..models import Query, TalentMediaQuery, TaskVideoQuery
from .apps import AppSpec, load_apps
from .dates import check_window, parse_billing_dates, parse_time
from .exits import FILES, USAGE, CliError, read_text

_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".jsonl.gz": "jsonl.gz", ".csv.gz": "csv.gz",
            ".xlsx": "xlsx", ".sqlite": "sqlite", ".db": "sqlite"}
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: The platform's cap: requests per rolling second of one app.
PLATFORM_QPS = 10
#: ``--page-size`` bounds of each kind.
PAGE_SIZES = {"task-videos": (1, 10_000), "talent-media": (1, 100)}
CONTENT_TYPES = {1: "short videos", 2: "live rooms", 3: "both"}


@attrs.frozen
class SandboxOptions:
    """Settings of an embedded sandbox (None fields keep the sandbox's defaults)."""

    latency: float | None = None
    fault_rate: float | dict[str, float] | None = None
    seed: int | None = None
    qps: int | None = None
    #: ``--sandbox-realistic``: the sandbox's realistic profile.
    realistic: bool = False


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
    #: ``--csv-plain``: RFC 4180 verbatim, no byte order mark, no formula escaping.
    csv_plain: bool = False
    #: ``--on-invalid-record``: ``fail`` or ``quarantine``.
    on_invalid_record: str = "fail"
    #: ``--xlsx-long-text``: ``fail`` or ``split`` (text longer than a cell).
    xlsx_long_text: str = "fail"

    #: ``--dry-run``: say what the pull would cost, then stop.
    dry_run: bool = False
    #: Warnings to show before the pull (an option that works, but not as the user may think).
    warnings: tuple[str, ...] = ()
    #: ``--log-format json``: progress and summary as JSON log records.
    log_json: bool = False


def read_ids_file(path: str) -> list[str]:
    """Douyin ids from a file: one per line, blank lines and ``#`` comments skipped."""
    lines = read_text(path, lambda reason: CliError(
        f"cannot read --douyin-ids-file {path!r}: {reason}", FILES)).splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _check_ids(ids: list[str], option: str) -> list[str]:
    for value in ids:
        if not value.strip():
            raise CliError(f"{option}: empty id", USAGE)
    return _unique([value.strip() for value in ids])


def check_page_size(kind: str, size: int) -> None:
    """Refuse a ``--page-size`` the endpoint does not take."""
    low, high = PAGE_SIZES[kind]
    if not low <= size <= high:
        raise CliError(f"--page-size {size}: {kind} pages hold {low} to {high:,} records",
                       USAGE)


def _task_video_queries(ns: SimpleNamespace, now: float
                        ) -> tuple[list[Query], dict[str, Any]]:
    dates = parse_billing_dates(ns.billing_date, now)
    start = parse_time(ns.published_from, "--published-from", now)
    end = parse_time(ns.published_to, "--published-to", now, end_of_day=True)
    check_window(start, end, ns.published_from, ns.published_to, now, check_age=not ns.resume)
    check_page_size("task-videos", ns.page_size)
    authors: list[str | None] = list(_check_ids(ns.douyin_id or [], "--douyin-id")) or [None]
    agency = ns.agency_client_key
    if agency is not None and not agency.strip():
        raise CliError("--agency-client-key: empty value", USAGE)
    queries: list[Query] = []
    for day in dates:
        for author in authors:
            query = TaskVideoQuery(billing_date=day, video_publish_start_time=start,
                                   video_publish_end_time=end, douyin_id=author,
                                   agency_client_key=agency, page_size=ns.page_size)
            if not ns.resume:  # a resumed pull checks only its unfinished units
                query.check_age(now)
            queries.append(query)
    params = {"billing_dates": [d.isoformat() for d in dates], "published_from": start,
              "published_to": end, "douyin_ids": authors, "agency_client_key": agency,
              "page_size": ns.page_size}
    return queries, params


def _talent_media_queries(ns: SimpleNamespace) -> tuple[list[Query], dict[str, Any]]:
    ids = list(ns.douyin_id or [])
    if ns.douyin_ids_file is not None:
        from_file = read_ids_file(ns.douyin_ids_file)
        if not from_file:
            raise CliError(f"--douyin-ids-file {ns.douyin_ids_file!r} holds no ids", USAGE)
        ids.extend(from_file)
    if not ids:
        raise CliError("no talents: give --douyin-id or --douyin-ids-file", USAGE)
    talents = _check_ids(ids, "--douyin-id")
    check_page_size("talent-media", ns.page_size)
    if ns.content_type not in CONTENT_TYPES:
        raise CliError(f"--content-type {ns.content_type}: use " + ", ".join(
            f"{n} ({what})" for n, what in CONTENT_TYPES.items()), USAGE)
    plans = _unique(ns.plan_id)
    for plan in plans:
        if not 1 <= plan < 2**63:
            raise CliError(f"--plan-id {plan}: a plan id is a positive 64-bit integer", USAGE)
    queries: list[Query] = [
        TalentMediaQuery(plan_id=plan, douyin_id=talent, content_type=ns.content_type,
                         page_size=ns.page_size)
        for plan in plans for talent in talents
    ]
    params = {"plan_ids": plans, "douyin_ids": talents, "content_type": ns.content_type,
              "page_size": ns.page_size}
    return queries, params


def bill_params(ns: SimpleNamespace, now: float) -> dict[str, Any]:
    """The checked parameters of a ``pull bills`` command (``now``: unix seconds, the
    instant relative dates and the 180-day rule are read against)."""
    if ns.apps is not None or ns.redis_url is not None:
        raise CliError("pull bills takes neither --apps nor --redis-url", USAGE)
    if ns.dry_run:
        raise CliError("pull bills has no --dry-run: a bill file's size is known only once "
                       "its link is asked for", USAGE)
    dates = parse_billing_dates(ns.bill_date, now, "--bill-date")
    try:
        for day in dates:
            bill_date_of(day, now)
    except InvalidParameterError as exc:
        raise CliError(f"--bill-date: {exc}", USAGE) from None
    return {"bill_dates": [d.isoformat() for d in dates], "agency": bool(ns.agency),
            "live": bool(ns.live), "batch_rows": ns.batch_rows}


def output_format(out: str) -> str:
    """``jsonl``, ``csv``, ``jsonl.gz``, ``csv.gz``, ``xlsx`` or ``sqlite`` from the output
    name (``-`` is JSONL on stdout)."""
    if out == "-":
        return "jsonl"
    name = out.lower()
    fmt = next((f for suffix, f in _FORMATS.items() if name.endswith(suffix)), None)
    if fmt is None:
        raise CliError(f"--out {out!r}: unknown extension; use .jsonl, .csv, .jsonl.gz, "
                       ".csv.gz, .xlsx, .sqlite, .db or -", USAGE)
    return fmt


def redis_url_option(ns: SimpleNamespace) -> str | None:
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


def rate_warnings(ns: SimpleNamespace, apps: tuple[AppSpec, ...] | None) -> list[str]:
    """Warnings for rates above the server's cap (the platform's, or ``--sandbox-qps``)."""
    cap = ns.sandbox_qps if ns.sandbox and ns.sandbox_qps is not None else PLATFORM_QPS
    where = "the sandbox's --sandbox-qps" if cap != PLATFORM_QPS else "the platform's cap of"
    rates = [("--rate-limit", ns.rate_limit)] if apps is None or any(
        a.rate is None for a in apps) else []
    rates += [(f"app {a.name!r}: rate", a.rate) for a in apps or () if a.rate is not None]
    return [f"{name} {rate:g} is above {where} {cap} requests per second per app; the "
            "server answers the excess with rate-limit errors, which are retried more slowly"
            for name, rate in rates if rate > cap]


def build_spec(ns: SimpleNamespace, now: float | None = None) -> PullSpec:
    """Validate the arguments of a ``pull`` command (no network, no files written).

    ``now`` (unix seconds, default: the clock) is the one instant relative dates and the
    90-day limit are taken from.
    """
    now = time.time() if now is None else now
    fmt = output_format(ns.out)
    if ns.resume and ns.force:
        raise CliError("--resume and --force exclude each other", USAGE)
    if ns.out == "-" and ns.resume:
        raise CliError("--resume needs an output file, not stdout", USAGE)
    if ns.out == "-" and ns.on_invalid_record == "quarantine":
        raise CliError("--on-invalid-record quarantine needs an output file, not stdout",
                       USAGE)
    if ns.csv_plain and fmt not in ("csv", "csv.gz"):
        raise CliError("--csv-plain needs a .csv or .csv.gz output", USAGE)
    if ns.xlsx_long_text and fmt != "xlsx":
        raise CliError("--xlsx-long-text needs a .xlsx output", USAGE)
    if ns.sandbox and ns.base_url is not None:
        raise CliError("--sandbox and --base-url exclude each other: --sandbox pulls from an "
                       "embedded server", USAGE)
    base_url = ns.base_url or os.environ.get("DOUYIN_BASE_URL") or None
    if not ns.sandbox and base_url is None:
        raise CliError("no server: give --base-url URL, set DOUYIN_BASE_URL, or use --sandbox",
                       USAGE)
    if base_url is not None and not ns.sandbox \
            and not base_url.startswith(("http://", "https://")):
        raise CliError(f"--base-url must be an http(s) URL, got {base_url!r}", USAGE)
    sandbox_opts = [ns.sandbox_latency, ns.sandbox_fault_rate, ns.sandbox_seed, ns.sandbox_qps,
                    ns.sandbox_realistic or None]
    if not ns.sandbox and any(v is not None for v in sandbox_opts):
        raise CliError("--sandbox-* options need --sandbox", USAGE)
    try:
        if ns.kind == "task-videos":
            queries, params = _task_video_queries(ns, now)
        elif ns.kind == "bills":
            queries, params = [], bill_params(ns, now)
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
                               ns.sandbox_qps, ns.sandbox_realistic) if ns.sandbox else None,
        access_token_file=ns.access_token_file, apps=apps, redis_url=redis_url,
        rate_limit=ns.rate_limit,
        max_concurrency=ns.max_concurrency, timeout=ns.timeout, max_retries=ns.max_retries,
        resume=ns.resume, force=ns.force, quiet=ns.quiet,
        csv_plain=ns.csv_plain, on_invalid_record=ns.on_invalid_record,
        xlsx_long_text=ns.xlsx_long_text or "fail",
        progress_interval=ns.progress_interval, dry_run=ns.dry_run,
        warnings=tuple(rate_warnings(ns, apps)), log_json=ns.log_format == "json",
    )
