"""The options of the pull commands, declared once, and the value types they share.

Every ``pull`` command takes the output, server, logging and pacing options below
([`pull_options`][douyin_async.cli.options.pull_options]); each kind adds its own. Values are
checked as they are read (a rate must be positive, a count at least 1); everything that needs
the clock or other options is checked later, by [`build_spec`][douyin_async.cli.spec.build_spec].
A date option takes its value as the next word even when it starts with a dash
(``--billing-date -7d..-1d``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: The epilog of every pull command: how days are read, and where the exit codes are.
DAYS_NOTE = (
    "Days: YYYY-MM-DD, today, yesterday or -Nd (N days ago), days of Beijing time (UTC+8, the "
    "platform's calendar), read once at start; a range is A..B. Exit codes: douyin-async "
    "exit-codes.")


class Parsed(click.ParamType):  # type: ignore[type-arg]  # generic in click 8.3+
    """A value read by a function that raises `ValueError` with the reason it refuses."""

    def __init__(self, read: Callable[[str], Any], name: str) -> None:
        self.read = read
        self.name = name

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if not isinstance(value, str):  # a default, already a value
            return value
        try:
            return self.read(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def number(kind: type[Any], accepts: Callable[[Any], bool], need: str) -> Parsed:
    """A number of ``kind`` (int or float), refused unless it ``accepts`` it."""
    word = "an integer" if kind is int else "a number"

    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"not {word}: {text!r}") from None
        if not accepts(value):
            raise ValueError(f"{need}, got {text}")
        return value

    return Parsed(read, "integer" if kind is int else "number")


INT = number(int, lambda v: True, "")
POSITIVE_INT = number(int, lambda v: v >= 1, "must be at least 1")
NON_NEGATIVE_INT = number(int, lambda v: v >= 0, "must not be negative")
POSITIVE = number(float, lambda v: 0 < v < math.inf, "must be a positive number")
NON_NEGATIVE = number(float, lambda v: 0 <= v < math.inf, "must not be negative")
FRACTION = number(float, lambda v: 0.0 <= v <= 1.0, "must be between 0 and 1")


def fault_rates(text: str) -> float | dict[str, float]:
    """A total fault rate ``P``, or per-kind rates ``kind=P,kind=P`` (sandbox fault kinds)."""
    if "=" not in text:
        return float(FRACTION.read(text))
    from ..sandbox.config import FAULT_KINDS

    rates: dict[str, float] = {}
    for part in text.split(","):
        kind, _, value = part.partition("=")
        kind = kind.strip().replace("-", "_")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        rates[kind] = float(FRACTION.read(value))
    if sum(rates.values()) > 1.0:
        raise ValueError("fault rates add up to more than 1")
    return rates


def _flag(name: str, text: str) -> Callable[[F], F]:
    return click.option(name, is_flag=True, help=text)


def _value(name: str, metavar: str, text: str, **more: Any) -> Callable[[F], F]:
    return click.option(name, metavar=metavar, help=text, **more)


#: The options every pull takes, in the order ``--help`` lists them.
_PULL_OPTIONS: tuple[Callable[[F], F], ...] = (
    # output
    _value("--out", "FILE", "output: .jsonl .csv .jsonl.gz .csv.gz .xlsx .sqlite .db, or - "
           "(JSONL on stdout); OUT.ckpt keeps the checkpoint", required=True,
           type=click.Path(dir_okay=False, allow_dash=True)),
    _flag("--resume", "continue an interrupted pull (same options)"),
    _flag("--force", "start over, overwriting OUT and its checkpoint"),
    _flag("--csv-plain", "CSV for programs: RFC 4180, verbatim, no BOM"),
    _value("--xlsx-long-text", "fail|split", ".xlsx text over 32,767 characters: fail "
           "(default) or split into more columns",
           type=click.Choice(("fail", "split"))),
    _value("--on-invalid-record", "fail|quarantine", "a record that does not decode: fail "
           "(default), or set it aside in OUT.rejects.jsonl and exit 11",
           type=click.Choice(("fail", "quarantine")), default="fail"),
    _flag("--dry-run", "print units, requests and wall time; send nothing"),
    _flag("--quiet", "print nothing but errors"),
    _value("--progress-interval", "SEC", "progress line period off a terminal (default: 5)",
           type=POSITIVE, default=5.0),
    # server and credentials
    _value("--base-url", "URL", "API server (default: $DOUYIN_BASE_URL)"),
    _value("--access-token-file", "FILE", "access token file (default: $DOUYIN_ACCESS_TOKEN, "
           "or $DOUYIN_CLIENT_KEY and $DOUYIN_CLIENT_SECRET)", type=click.Path(dir_okay=False)),
    _value("--apps", "FILE", "pull for every app of FILE (TOML or JSON: name, credentials, "
           "rate); rows get an 'app' column", type=click.Path(dir_okay=False)),
    _flag("--sandbox", "pull from an embedded sandbox server"),
    _value("--sandbox-latency", "SEC", "sandbox: added latency per answer", type=NON_NEGATIVE),
    _value("--sandbox-fault-rate", "P|KIND=P,..", "sandbox: fault probability, e.g. "
           "server_error=0.05,reset=0.01", type=Parsed(fault_rates, "rates")),
    _value("--sandbox-seed", "N", "sandbox: seed of the generated data", type=INT),
    _value("--sandbox-qps", "N", "sandbox: the server's QPS cap", type=POSITIVE_INT),
    _flag("--sandbox-realistic", "sandbox: answer as the real platform does"),
    # logging
    click.option("-v", "--verbose", count=True,
                 help="log on stderr (-v: info, -vv: debug, every page written)"),
    _value("--log-format", "text|json", "json: one object per line, progress too",
           type=click.Choice(("text", "json")), default="text"),
    # pacing and retries
    _value("--rate-limit", "QPS", "requests per second per app (default: 10, the cap)",
           type=POSITIVE, default=10.0),
    _value("--redis-url", "URL", "share each app's quota through Redis (default: "
           "$DOUYIN_REDIS_URL)"),
    _value("--max-concurrency", "N", "requests in flight per app (default: 10)",
           type=POSITIVE_INT, default=10),
    _value("--timeout", "SEC", "seconds per request (default: 30)", type=POSITIVE, default=30.0),
    _value("--max-retries", "N", "retries of a failed request (default: 5)",
           type=NON_NEGATIVE_INT, default=5),
)


def pull_options(command: F) -> F:
    """Add the options every pull takes to ``command``."""
    for add in reversed(_PULL_OPTIONS):
        command = add(command)
    return command


class Narrow(click.Command):
    """A command whose ``--help`` keeps the option column narrow (24 of 80 columns)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [row for param in self.get_params(ctx)
                if (row := param.get_help_record(ctx)) is not None]
        if rows:
            with formatter.section("Options"):
                formatter.write_dl(rows, col_max=24)


class StrictCommand(Narrow):
    """A command that names a missing required option before an unknown one, as one line:
    ``--ou x.jsonl`` is reported as ``--out`` missing (options are never abbreviated)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["context_settings"] = {**(kwargs.get("context_settings") or {}),
                                      "ignore_unknown_options": True, "allow_extra_args": True}
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.args and not ctx.resilient_parsing:
            raise click.UsageError(f"unrecognized arguments: {' '.join(ctx.args)}", ctx)
        return rest


__all__ = ["DAYS_NOTE", "Narrow", "Parsed", "StrictCommand", "fault_rates", "number",
           "pull_options"]
