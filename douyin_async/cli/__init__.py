"""The ``douyin-async`` command: its commands and options are declared on click in
[`douyin_async.cli.app`][]; this module runs one and reports how it ended.

Ctrl-C and SIGTERM stop a pull alike: the page being written is finished (or dropped and
fetched again on resume), the output and checkpoint are flushed, one line is printed, and the
exit code is 130 or 143 (every code: [`EXIT_CODES`][douyin_async.cli.exits.EXIT_CODES]).
Every error is one line on stderr, never holding a token or a secret. The console command
enters through ``douyin_async_cli``, which handles both signals before this is imported.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from types import FrameType, SimpleNamespace
from typing import Any

from ..errors import DouyinError
from . import exits
from .exits import CliError
from .terminal.logs import say


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


async def _pull(spec: Any, stopper: _Stopper) -> None:
    from .run import run_pull

    stopper.loop = asyncio.get_running_loop()
    stopper.task = asyncio.current_task()
    try:
        await run_pull(spec)
    finally:
        stopper.task = None


class _Run:
    """One command: its arguments, and what the error messages need to know of it."""

    def __init__(self) -> None:
        self.spec: Any = None
        self.stopper = _Stopper()
        #: ``--log-format json``: messages are JSON objects too.
        self.json = False

    def say(self, message: str, code: int) -> int:
        say(message, json=self.json, code=code)
        return code

    def pull(self, args: SimpleNamespace) -> None:
        """Validate the options of a pull, then run it (or describe it: ``--dry-run``)."""
        self.json = args.log_format == "json"
        from .spec import build_spec

        self.spec = spec = build_spec(args, now=time.time())
        if not spec.quiet:
            for warning in spec.warnings:
                say(warning, "warning", json=self.json)
        if spec.dry_run:
            from .dryrun import dry_run_report

            sys.stdout.write("".join(line + "\n" for line in dry_run_report(spec)))
            return
        from .terminal.logs import configure, unconfigure

        handler = configure(args.verbose, args.log_format)
        try:
            asyncio.run(_pull(spec, self.stopper))
        except asyncio.CancelledError:
            if self.stopper.terminated:
                raise Terminated from None
            raise
        finally:
            unconfigure(handler)

    def resume_hint(self) -> str:
        spec = self.spec
        if spec is None or spec.out == "-" or spec.dry_run:
            return ""
        return "; the same command with --resume continues the pull"

    def describe(self, error: DouyinError) -> str:
        from .terminal.messages import describe

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
        from .app import run as run_command

        return run_command(argv, run)
    except CliError as exc:
        return run.say(str(exc), exc.code)
    except DouyinError as exc:
        return run.say(run.describe(exc), exits.exit_code_for(exc))
    except KeyboardInterrupt:
        # Ctrl-C may land between making a coroutine and awaiting it: the process is
        # ending, so the dropped coroutine is no news (one line on stderr, as promised).
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
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
