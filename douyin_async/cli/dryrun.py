"""``--dry-run``: what a pull will cost, before it sends anything.

Units are known exactly (a task-video query is cut into windows of at most 30 days; every
plan and talent is one talent-media unit). Pages are not: neither endpoint tells how many
records a unit holds before its first page is asked, so every unit counts one page, a lower
bound; each further page costs one request more. Wall time is the requests at the paced rate
(the client spaces requests 4% wider than ``1 / rate``).
"""

from __future__ import annotations

import math

from ..api.streams import unit_queries
from ..models import TalentMediaQuery, TaskVideoQuery
from ..pacing.limiter import DEFAULT_MARGIN
from .spec import PullSpec

#: The client's spacing margin: requests go out at ``rate / PACING_MARGIN`` per second.
PACING_MARGIN = 1.0 + DEFAULT_MARGIN


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 page``, ``2 pages`` (with thousands separators)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def wall_text(seconds: float) -> str:
    """``0.4 s``, ``3 min 54 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(math.ceil(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def dry_run_report(spec: PullSpec) -> list[str]:
    """The lines ``--dry-run`` prints for ``spec``."""
    units = unit_queries(spec.queries)
    apps = spec.apps or ()
    rates = [app.rate or spec.rate_limit for app in apps] or [spec.rate_limit]
    per_app = len(units)
    if spec.kind == "task-videos":
        dates = {q.billing_date for q in units if isinstance(q, TaskVideoQuery)}
        windows = {(q.video_publish_start_time, q.video_publish_end_time) for q in units
                   if isinstance(q, TaskVideoQuery)}
        authors = per_app // max(1, len(dates) * len(windows))
        shape = (f"{plural(len(dates), 'billing date')} x {plural(len(windows), 'window')} "
                 f"of at most 30 days x {plural(authors, 'author')}")
        totals = "task videos have no total: a unit's pages are known only at its short page"
    else:
        media = [q for q in units if isinstance(q, TalentMediaQuery)]
        shape = (f"{plural(len({q.plan_id for q in media}), 'plan')} x "
                 f"{plural(len({q.douyin_id for q in media}), 'talent')}")
        totals = "a unit's page count is known from its first page"
    lines = [f"dry run: {spec.kind} into {spec.out}"
             + (f", for {plural(len(apps), 'app')}" if apps else "")]
    lines.append(f"units: {per_app * max(1, len(apps)):,} ({shape}"
                 + (f", for each of {len(apps)} apps" if apps else "") + ")")
    least = per_app * max(1, len(apps))
    lines.append(f"pages: at least {plural(least, 'page')}, one per unit ({totals}); "
                 f"page size {spec.params['page_size']:,}")
    extra = "retries and fetch-ahead" if spec.kind == "task-videos" else "retries"
    lines.append(f"requests: at least {plural(least, 'request')}, one per page ({extra} "
                 "add more)")
    slowest = min(rates) / PACING_MARGIN
    lines.append(f"wall time: at least {wall_text(per_app / slowest)} at "
                 f"{min(rates):g} requests per second"
                 + (" per app, the apps side by side" if apps else "")
                 + "; each page past the first of a unit adds "
                 f"{1 / slowest:.2f} s")
    lines.append("nothing was sent or written")
    return lines
