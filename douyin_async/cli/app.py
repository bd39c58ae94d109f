"""The commands of ``douyin-async``, on click: ``pull`` (task videos, talent media, bills),
``status``, ``sandbox``, ``completion`` and ``exit-codes``.

[`cli`][douyin_async.cli.app.cli] is the root group; more commands join it with
``cli.add_command(...)``. The commands only read their options: a pull hands them to the
runner in ``ctx.obj``, which validates them into
a [`PullSpec`][douyin_async.cli.spec.PullSpec] and runs it. The ``sandbox`` command is loaded
only when it is named (or listed), so a pull never imports the sandbox package.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import click

from .. import __version__
from . import exits
from .exits import USAGE, CliError
from .options import (
    DAYS_NOTE,
    FRACTION,
    INT,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Narrow,
    StrictCommand,
    pull_options,
)
from .terminal.logs import PROG

#: Shells ``douyin-async completion`` writes a script for.
SHELLS = ("bash", "zsh", "fish")
#: The environment variable click's shell completion reads.
COMPLETE_VAR = "_DOUYIN_ASYNC_COMPLETE"
SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


def _sync_command() -> click.Command:
    from .sync_command import sync

    return sync


def _worker_command() -> click.Command:
    from .worker_command import worker

    return worker


#: Commands made on first use, so a pull imports neither the sandbox nor the destinations.
_LAZY: dict[str, Callable[[], click.Command]] = {
    "sandbox": lambda: sandbox_command(), "sync": _sync_command, "worker": _worker_command}


class Root(click.Group):
    """The root group: ``sandbox`` and ``sync`` are made on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY and cmd_name not in self.commands:
            self.add_command(_LAZY[cmd_name](), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=Root, context_settings=SETTINGS, no_args_is_help=False,
             epilog="Exit codes: douyin-async exit-codes. Completion: douyin-async completion.")
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def cli() -> None:
    """Pull Douyin Open Platform data into JSONL, CSV or SQLite, paced under the API's QPS
    cap, with live progress and resumable, page-level checkpoints."""


@cli.group(context_settings=SETTINGS, epilog=DAYS_NOTE, no_args_is_help=False)
def pull() -> None:
    """Pull records into a file."""


def _hand_over(kind: str, params: dict[str, Any]) -> None:
    """Give the options of a ``pull KIND`` to the runner (``ctx.obj``), whose ``pull(args)``
    validates and runs (or, with ``--dry-run``, describes) the pull."""
    click.get_current_context().find_root().obj.pull(SimpleNamespace(kind=kind, **params))


def _pull_command(name: str, short: str) -> Callable[[Callable[..., None]], click.Command]:
    return pull.command(name, cls=StrictCommand, context_settings=SETTINGS, epilog=DAYS_NOTE,
                        short_help=short)


@_pull_command("task-videos", "Task-box video daily data (billing dates x windows x pages).")
@click.option("--billing-date", required=True, metavar="DAY[..DAY]",
              help="a billing date, or an inclusive range A..B, e.g. -7d..-1d")
@click.option("--published-from", required=True, metavar="TIME",
              help="window start: a day (00:00:00 Beijing), unix seconds or an ISO datetime "
                   "with offset; at most 90 days ago")
@click.option("--published-to", required=True, metavar="TIME",
              help="window end, inclusive: a day (23:59:59 Beijing), unix seconds or ISO")
@click.option("--douyin-id", multiple=True, metavar="ID", help="only this author (repeat)")
@click.option("--agency-client-key", metavar="KEY", help="the agency's client key")
@click.option("--page-size", type=INT, default=10_000, metavar="N",
              help="records per request, 1..10000 (default: 10000)")
@pull_options
def task_videos(**params: Any) -> None:
    """Task-box video daily data: every billing date is asked separately; publish windows
    over 30 days are split."""
    _hand_over("task-videos", params)


@_pull_command("talent-media", "Talents' videos and live rooms under commission plans.")
@click.option("--plan-id", type=INT, multiple=True, required=True, metavar="ID",
              help="commission plan id (repeat for several)")
@click.option("--douyin-id", multiple=True, metavar="ID", help="a talent's Douyin id (repeat)")
@click.option("--douyin-ids-file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Douyin ids, one per line ('#' starts a comment)")
@click.option("--content-type", type=INT, default=3, metavar="N",
              help="1 short videos, 2 live rooms, 3 both (default: 3)")
@click.option("--page-size", type=INT, default=100, metavar="N",
              help="records per request, 1..100 (default: 100)")
@pull_options
def talent_media(**params: Any) -> None:
    """Videos and live rooms of talents under common commission plans (plans x talents x
    pages)."""
    _hand_over("talent-media", params)


@_pull_command("bills", "Bill files of settlement dates, streamed row by row.")
@click.option("--bill-date", required=True, metavar="DAY[..DAY]",
              help="a settlement date, or an inclusive range A..B, e.g. -7d..-1d")
@click.option("--agency", is_flag=True, help="the agency endpoint (scope taskbox.agent.admin)")
@click.option("--live", is_flag=True, help="live-room files instead of the video files")
@click.option("--batch-rows", type=POSITIVE_INT, default=5000, metavar="N",
              help="rows written per checkpoint entry (default: 5000)")
@pull_options
def bills(**params: Any) -> None:
    """Bill files of settlement dates (the API that replaces task videos): links asked per
    date, files streamed row by row. Only dates before today, within the latest 180 days."""
    _hand_over("bills", params)


@cli.command(context_settings=SETTINGS, short_help="What an output's checkpoint or a queue holds.")
@click.argument("out", metavar="OUT", required=False, type=click.Path(dir_okay=False))
@click.option("--queue", "queue_url", envvar="DOUYIN_QUEUE_URL", metavar="URL",
              help="the PostgreSQL of spread syncs (or $DOUYIN_QUEUE_URL)")
@click.option("--run", metavar="QUEUE", help="with --queue: only this run")
@click.option("--json", "as_json", is_flag=True, help="with --queue: one JSON document")
def status(out: str | None, queue_url: str | None, run: str | None, as_json: bool) -> None:
    """What the checkpoint of a pull's output OUT holds: units done and pending, records,
    when, and which server and app. With --queue: the units of spread syncs queued,
    running, done and failed, records, and each app's request rate."""
    if queue_url is not None:
        from .queue_status import show_queue_status

        show_queue_status(queue_url, run, as_json)
        return
    if out is None:
        raise CliError("status needs an output OUT, or --queue URL", USAGE)
    from .status import show_status

    show_status(out, sys.stdout)


@cli.command(context_settings=SETTINGS)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print a shell completion script for SHELL, made by click. Bash: add
    eval "$(douyin-async completion bash)" to ~/.bashrc."""
    from click.shell_completion import get_completion_class

    found = get_completion_class(shell)
    assert found is not None  # the choices are click's shells
    click.echo(found(cli, {}, PROG, COMPLETE_VAR).source(), nl=False)


@cli.command("exit-codes", context_settings=SETTINGS)
def exit_codes() -> None:
    """The exit codes of every command, and what each means."""
    click.echo(exits.help_text(), nl=False)


def _option(flag: str, kind: Any, default: Any, text: str, **more: Any) -> click.Option:
    return click.Option([flag], type=kind, default=default, help=text, **more)


def _options() -> list[click.Parameter]:
    """The options, from the sandbox's tables and defaults."""
    from ..sandbox import options as table
    from ..sandbox.config import BILL_ENCODINGS, FAULT_KINDS, SandboxConfig

    d = SandboxConfig()
    return [
        _option("--host", str, "127.0.0.1", "address to bind (default: 127.0.0.1)"),
        _option("--port", NON_NEGATIVE_INT, 8080, "port (default: 8080; 0: any free port)"),
        _option("--seed", INT, d.seed, "data and fault seed"),
        _option("--qps", NON_NEGATIVE_INT, d.qps, f"rolling 1 s cap per token (0: none; "
                f"default: {d.qps})"),
        _option("--latency", NON_NEGATIVE, d.latency, "seconds per answer"),
        _option("--jitter", NON_NEGATIVE, d.jitter, "uniform +- spread around --latency"),
        _option("--fault-rate", FRACTION, None, "total fault probability, over all kinds"),
        *(_option(f"--{kind.replace('_', '-')}-rate", FRACTION, None,
                  f"probability of {kind} faults") for kind in FAULT_KINDS),
        _option("--slow-seconds", NON_NEGATIVE, d.slow_seconds, "how long a slow answer waits"),
        _option("--key-style", click.Choice(("pascal", "snake")), d.key_style,
                "task-video record keys"),
        *(_option(flag, INT, getattr(d, flag[2:].replace("-", "_")), text)
          for flag, text in table._INT_OPTIONS),
        *(click.Option([flag], is_flag=True, help=text.split(":")[0])
          for flag, text in table._SWITCHES),
        _option("--bill-encoding", click.Choice(BILL_ENCODINGS), d.bill_encoding,
                "encoding of the bill files"),
        _option("--write-apps", str, None, "write the further apps' file (JSON) to FILE",
                metavar="FILE"),
        *(_option(flag, kind, getattr(d, flag[2:].replace("-", "_")), text)
          for flag, kind, text in table._FILE_FAULTS),
    ]


def _serve(**params: Any) -> None:
    import argparse  # the sandbox reads its options from a namespace

    from ..sandbox import cli as sandbox_cli

    try:
        config = sandbox_cli.config_from_args(argparse.Namespace(**params))
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from None
    asyncio.run(sandbox_cli.serve_until_signal(config, params["host"], params["port"],
                                               params["write_apps"]))


def sandbox_command() -> click.Command:
    """The ``sandbox`` command."""
    from ..sandbox.config import CLIENT_KEY, CLIENT_SECRET, STATIC_TOKEN

    epilog = ("It listens on 127.0.0.1:8080 unless --host / --port say otherwise (--port 0: "
              "any free port) and prints the URL and the port on start.\n\n\b\n"
              f"Credentials it accepts:\n  access token   {STATIC_TOKEN} (header access-token; "
              f"never expires)\n  client key     {CLIENT_KEY} (token endpoints, with the "
              f"secret)\n  client secret  {CLIENT_SECRET}")
    return Narrow("sandbox", callback=_serve, params=_options(), context_settings=SETTINGS,
                  short_help="Run the sandbox server in the foreground.",
                  help="Run the sandbox server in the foreground (Ctrl-C or SIGTERM stops "
                       "it).", epilog=epilog)


def usage_error(error: click.ClickException) -> CliError:
    """A click error as one line, naming the help page of the command it concerns."""
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else PROG
    message = error.format_message()
    if isinstance(error, click.NoSuchOption):
        message = f"unrecognized arguments: {error.option_name}"
    elif isinstance(error, click.MissingParameter) and error.param is not None:
        names = error.param.opts or [error.param.human_readable_name]
        message = f"the following arguments are required: {'/'.join(names)}"
    code = exits.USAGE if isinstance(error, click.UsageError | click.BadParameter) else \
        error.exit_code
    return CliError(f"{message} (see '{where} --help')", code)


def run(argv: Sequence[str] | None, obj: Any) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run its command with ``obj`` as the
    runner; a usage error is raised as a [`CliError`][douyin_async.cli.exits.CliError]."""
    if COMPLETE_VAR in os.environ:  # the shell asks for completions
        from click.shell_completion import shell_complete

        return shell_complete(cli, {}, PROG, COMPLETE_VAR, os.environ[COMPLETE_VAR])
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with cli.make_context(PROG, args, obj=obj) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.ClickException as exc:
        raise usage_error(exc) from None
    return exits.OK


__all__ = ["COMPLETE_VAR", "cli", "run", "sandbox_command", "usage_error"]
