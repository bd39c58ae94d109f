"""The ``douyin-async`` command: pull task videos or talent media into JSONL, CSV or SQLite.

Usage::

    douyin-async pull task-videos --billing-date 2026-11-01..2026-11-20 \\
        --published-from 2026-10-01 --published-to 2026-11-20 --out videos.jsonl
    douyin-async pull talent-media --plan-id 7089334664648722476 --douyin-ids-file ids.txt \\
        --content-type 3 --out media.sqlite
    douyin-async sandbox --port 8080

``--apps FILE`` pulls the same queries for many apps at once (one client per app, one quota
each; see :mod:`.apps`); ``--redis-url`` shares each app's quota with other processes.

Add ``--sandbox`` to a pull to run it against an embedded sandbox server instead of
``--base-url`` / ``$DOUYIN_BASE_URL``. A pull killed at any moment continues with the same
command plus ``--resume``; ``--force`` starts over.

Exit codes:
    0    success (also a ``--resume`` of a pull that already finished)
    1    unexpected internal error
    2    usage error: bad option or value, impossible date, window older than 90 days,
         page size out of range, empty ids, no server, no credentials, ``--redis-url``
         without the redis package
    3    file error: ids or token file unreadable, output or checkpoint unwritable
    4    authentication refused by the server
    5    permission denied by the server
    6    quota exhausted, or rate-limited after every retry
    7    any other API or transport error, after retries; Redis unreachable
    8    output/checkpoint conflict: output exists without ``--resume``/``--force``, or
         ``--resume`` with different query parameters
    9    bad ``--apps`` file: missing, unreadable, malformed, empty, a name used twice,
         missing or mixed credentials
    130  interrupted (Ctrl-C)

Every error is reported as one line on stderr; tokens and secrets never appear in output.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from ..errors import DouyinError
from . import exits
from .args import PROG, build_parser
from .exits import CliError


def _say(message: str) -> None:
    text = " ".join(message.split())
    if not text:
        return
    sys.stderr.write(f"{PROG}: error: {text}\n")
    sys.stderr.flush()


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.command == "sandbox":
        from ..sandbox import cli as sandbox_cli

        try:
            config = sandbox_cli.config_from_args(ns)
        except ValueError as exc:
            raise CliError(str(exc), exits.USAGE) from None
        asyncio.run(sandbox_cli.serve_until_signal(config, ns.host, ns.port))
        return exits.OK
    if ns.command == "status":
        from .status import show_status

        return show_status(ns.out, sys.stdout)
    from .run import run_pull
    from .spec import build_spec

    spec = build_spec(ns)
    asyncio.run(run_pull(spec))
    return exits.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        return _dispatch(argv)
    except CliError as exc:
        _say(str(exc))
        return exc.code
    except DouyinError as exc:
        _say(str(exc))
        return exits.exit_code_for(exc)
    except KeyboardInterrupt:
        _say("interrupted")
        return exits.INTERRUPTED
    except OSError as exc:
        _say(f"{exc.strerror or exc}" + (f": {exc.filename!r}" if exc.filename else ""))
        return exits.FILES
    except Exception as exc:  # one line, never a traceback
        _say(f"unexpected {type(exc).__name__}: {exc}")
        return exits.INTERNAL


__all__ = ["main"]
