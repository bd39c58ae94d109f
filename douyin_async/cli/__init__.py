"""The ``douyin-async`` command: pull task videos or talent media into JSONL, CSV or SQLite.

Usage::

    douyin-async pull task-videos --billing-date yesterday \\
        --published-from -30d --published-to yesterday --out videos.jsonl
    douyin-async pull talent-media --plan-id 7089334664648722476 --douyin-ids-file ids.txt \\
        --content-type 3 --out media.sqlite
    douyin-async sandbox --port 8080

``--apps FILE`` pulls the same queries for many apps at once (one client per app, one quota
each; see [`douyin_async.cli.apps`][douyin_async.cli.apps]); ``--redis-url`` shares each
app's quota with other processes.

Add ``--sandbox`` to a pull to run it against an embedded sandbox server instead of
``--base-url`` / ``$DOUYIN_BASE_URL``. A pull stopped at any moment (Ctrl-C, SIGTERM, a
crash) continues with the same command plus ``--resume``; ``--force`` starts over. Ctrl-C and
SIGTERM stop a pull the same way: the page being written is finished (or dropped and fetched
again on resume), the output and checkpoint are flushed, one line is printed, and the exit
code is 130 or 143. The exit codes are listed once, in
[`EXIT_CODES`][douyin_async.cli.exits.EXIT_CODES].

Every error is reported as one line on stderr; tokens and secrets never appear in output.
The ``douyin-async`` console command enters through ``douyin_async_cli``, which handles
Ctrl-C and SIGTERM before this package is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ..errors import DouyinError
from . import exits
from .args import PROG, build_parser, wants_sandbox_command
from .dates import join_relative_values
from .exits import CliError


class Terminated(Exception):
    """SIGTERM arrived while the command was not inside a pull."""


class _Stopper:
    """SIGTERM: cancel the running pull (which then unwinds like Ctrl-C), or, outside a
    pull, raise [`Terminated`][douyin_async.cli.Terminated]."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None
        self.terminated = False

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.terminated:
            return  # already stopping
        self.terminated = True
        if self.task is not None and self.loop is not None and not self.task.done():
            self.loop.call_soon_threadsafe(self.task.cancel)
            return
        raise Terminated


def _say(message: str, kind: str = "error", *, json: bool = False, code: int | None = None
         ) -> None:
    text = " ".join(message.split())
    if not text:
        return
    if json:
        import orjson

        entry: dict[str, Any] = {"level": kind, "logger": "douyin_async.cli", "message": text}
        if code is not None:
            entry["exit_code"] = code
        sys.stderr.write(orjson.dumps(entry).decode() + "\n")
    else:
        sys.stderr.write(f"{PROG}: {kind}: {text}\n")
    sys.stderr.flush()


async def _pull(spec: Any, stopper: _Stopper) -> None:
    from .run import run_pull

    stopper.loop = asyncio.get_running_loop()
    stopper.task = asyncio.current_task()
    try:
        await run_pull(spec)
    finally:
        stopper.task = None


def _completion(shell: str) -> int:
    try:
        import shtab
    except ImportError:
        raise CliError("shell completion needs shtab: pip install "
                       "'douyin-async[completion]'", exits.USAGE) from None
    parser = build_parser()
    for action in _actions(parser):
        if FILE_OPTIONS.intersection(action.option_strings):
            action.complete = shtab.FILE  # type: ignore[attr-defined]
    sys.stdout.write(shtab.complete(parser, shell=shell))
    return exits.OK


#: Options whose value is a file name (completed as files).
FILE_OPTIONS = frozenset({"--out", "--apps", "--access-token-file", "--douyin-ids-file"})


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    found: list[argparse.Action] = []
    for action in parser._actions:
        found.append(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(_actions(sub))
    return found


class _Run:
    """One command: its arguments, and what the error messages need to know of it."""

    def __init__(self) -> None:
        self.spec: Any = None
        self.stopper = _Stopper()
        #: ``--log-format json``: messages are JSON objects too.
        self.json = False

    def say(self, message: str, code: int) -> int:
        _say(message, json=self.json, code=code)
        return code

    def dispatch(self, argv: Sequence[str] | None) -> int:
        args = join_relative_values(list(sys.argv[1:] if argv is None else argv))
        ns = build_parser(sandbox_options=wants_sandbox_command(args)).parse_args(args)
        self.json = getattr(ns, "log_format", "text") == "json"
        if ns.command == "sandbox":
            from ..sandbox import cli as sandbox_cli

            try:
                config = sandbox_cli.config_from_args(ns)
            except ValueError as exc:
                raise CliError(str(exc), exits.USAGE) from None
            asyncio.run(sandbox_cli.serve_until_signal(config, ns.host, ns.port,
                                                       ns.write_apps))
            return exits.OK
        if ns.command == "completion":
            return _completion(ns.shell)
        if ns.command == "status":
            from .status import show_status

            return show_status(ns.out, sys.stdout)
        from .spec import build_spec

        self.spec = spec = build_spec(ns, now=time.time())
        if not spec.quiet:
            for warning in spec.warnings:
                _say(warning, "warning", json=self.json)
        if spec.dry_run:
            from .dryrun import dry_run_report

            sys.stdout.write("".join(line + "\n" for line in dry_run_report(spec)))
            return exits.OK
        from .logs import configure, unconfigure

        handler = configure(ns.verbose, ns.log_format)
        try:
            asyncio.run(_pull(spec, self.stopper))
        except asyncio.CancelledError:
            if self.stopper.terminated:
                raise Terminated from None
            raise
        finally:
            unconfigure(handler)
        return exits.OK

    def resume_hint(self) -> str:
        spec = self.spec
        if spec is None or spec.out == "-" or spec.dry_run:
            return ""
        return "; the same command with --resume continues the pull"

    def describe(self, error: DouyinError) -> str:
        from .messages import describe

        return describe(error, getattr(self.spec, "base_url", None))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    run = _Run()
    # Signal handlers belong to the main thread; elsewhere (a caller's thread) none are set.
    owner = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)
                } if owner else {}
    try:
        if owner and previous[signal.SIGINT] is not signal.SIG_IGN:  # a parent's ignore stays
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if owner and previous[signal.SIGTERM] is not signal.SIG_IGN:
            signal.signal(signal.SIGTERM, run.stopper.on_sigterm)
        return run.dispatch(argv)
    except CliError as exc:
        return run.say(str(exc), exc.code)
    except DouyinError as exc:
        return run.say(run.describe(exc), exits.exit_code_for(exc))
    except KeyboardInterrupt:
        return run.say("interrupted" + run.resume_hint(), exits.INTERRUPTED)
    except Terminated:
        return run.say("terminated (SIGTERM)" + run.resume_hint(), exits.TERMINATED)
    except OSError as exc:
        return run.say(f"{exc.strerror or exc}" + (f": {exc.filename!r}" if exc.filename
                                                   else ""), exits.FILES)
    except Exception as exc:  # one line, never a traceback
        return run.say(f"unexpected {type(exc).__name__}: {exc}", exits.INTERNAL)
    finally:
        for sig, before in previous.items():
            if before is not None:
                signal.signal(sig, before)


__all__ = ["Terminated", "main"]
