"""The argument parser: ``pull task-videos``, ``pull talent-media`` and ``sandbox``."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from .. import __version__
from .exits import EPILOG, USAGE, CliError

PROG = "douyin-async"

DESCRIPTION = """\
Pull Douyin Open Platform data into JSONL, CSV or SQLite, paced under the API's QPS cap,
with live progress and resumable, page-level checkpoints."""

# Help texts are one line each (argparse wraps them): a shell's completion script keeps only
# the first line of a text that holds a line break.
OUTPUT_HELP = (
    "output file; the format follows the extension: .jsonl, .csv, .jsonl.gz, .csv.gz, .xlsx, "
    ".sqlite or .db ('-' writes JSONL to stdout). File outputs keep a checkpoint beside the "
    "output (OUT.ckpt); SQLite keeps it inside the database. A run holds OUT.lock while it "
    "writes.")

FORCE_HELP = (
    "start over: overwrite an existing JSONL/CSV output and its checkpoint; for SQLite, drop "
    "an unfinished pull's checkpoint (rows are upserted either way)")

APPS_HELP = (
    "pull the same queries for every app listed in FILE (TOML if it ends in .toml, JSON "
    "otherwise): a name and credentials per app (access_token, access_token_file, or "
    "client_key and client_secret), optionally a rate; rows get an 'app' column")


#: Shells ``douyin-async completion`` writes a script for.
SHELLS = ("bash", "zsh", "tcsh")


class Parser(argparse.ArgumentParser):
    """An argument parser that reports errors as one line (exit code 2) instead of a usage
    block, and takes no abbreviated option (``--res`` is not ``--resume``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise the problem as a [`CliError`][douyin_async.cli.exits.CliError];
        [`main`][douyin_async.cli.main] prints it."""
        raise CliError(f"{message} (see '{self.prog} --help')", USAGE)


def wants_sandbox_command(argv: Sequence[str]) -> bool:
    """Whether ``argv`` may run ``douyin-async sandbox`` (only then are its options, and so
    the sandbox package, loaded)."""
    return "sandbox" in argv


N = TypeVar("N", int, float)


def _number(kind: type[N], accepts: Callable[[N], bool], need: str) -> Callable[[str], N]:
    """An option value parser: `kind` from the text, refused unless `accepts` it."""
    word = "an integer" if kind is int else "a number"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {word}: {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{need}, got {text}")
        return value

    return parse


_int = _number(int, lambda v: True, "")
_positive_int = _number(int, lambda v: v >= 1, "must be at least 1")
_non_negative_int = _number(int, lambda v: v >= 0, "must not be negative")
_float = _number(float, lambda v: True, "")
_positive_float = _number(float, lambda v: 0 < v < math.inf, "must be a positive number")
_non_negative_float = _number(float, lambda v: 0 <= v < math.inf, "must not be negative")
_fraction = _number(float, lambda v: 0.0 <= v <= 1.0, "must be between 0 and 1")


def fault_rates(text: str) -> float | dict[str, float]:
    """A total fault rate ``P``, or per-kind rates ``kind=P,kind=P`` (sandbox fault kinds)."""
    if "=" not in text:
        return _fraction(text)
    from ..sandbox.config import FAULT_KINDS

    rates: dict[str, float] = {}
    for part in text.split(","):
        kind, _, value = part.partition("=")
        kind = kind.strip().replace("-", "_")
        if kind not in FAULT_KINDS:
            raise argparse.ArgumentTypeError(
                f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        rates[kind] = _fraction(value)
    if sum(rates.values()) > 1.0:
        raise argparse.ArgumentTypeError("fault rates add up to more than 1")
    return rates


#: The embedded sandbox's valued options: flag, type, metavar, help.
_SANDBOX_OPTIONS: tuple[tuple[str, Callable[[str], Any], str, str], ...] = (
    ("--sandbox-latency", _non_negative_float, "SEC", "added latency per answer"),
    ("--sandbox-fault-rate", fault_rates, "P|KIND=P,...",
     "probability of an injected fault per request, or per kind, e.g. server_error=0.05,"
     "bad_gateway=0.02,reset=0.01,cut_body=0.01,rate_limit=0.02"),
    ("--sandbox-seed", _int, "N", "seed of the generated data"),
    ("--sandbox-qps", _positive_int, "N", "the server's QPS cap"),
)


def _common_options() -> Parser:
    common = Parser(add_help=False)
    out = common.add_argument_group("output")
    out.add_argument("--out", required=True, metavar="FILE", help=OUTPUT_HELP)
    state = out.add_mutually_exclusive_group()
    state.add_argument("--resume", action="store_true",
                       help="continue an interrupted pull with the same query parameters")
    state.add_argument("--force", action="store_true", help=FORCE_HELP)
    out.add_argument("--csv-plain", action="store_true",
                     help="CSV for programs: RFC 4180, values verbatim, no byte order mark "
                          "(default: spreadsheet-safe, text cells starting with = + - @ "
                          "escaped with a leading ')")
    out.add_argument("--xlsx-long-text", choices=("fail", "split"), default=None,
                     help=".xlsx: text longer than a cell holds (32,767 characters) fails the "
                          "build, naming its row and column (default), or is split across "
                          "continuation columns NAME (part 2), ...")
    out.add_argument("--on-invalid-record", choices=("fail", "quarantine"), default="fail",
                     help="a record the client cannot decode exactly: fail the pull "
                          "(default), or quarantine it in OUT.rejects.jsonl and exit 11")
    out.add_argument("--dry-run", action="store_true",
                     help="print the units, pages and requests the pull will cost and its "
                          "wall time at the rate limit, then stop (nothing is written or "
                          "sent)")
    out.add_argument("--quiet", action="store_true", help="print nothing but errors")
    out.add_argument("--progress-interval", type=_positive_float, default=5.0, metavar="SEC",
                     help="seconds between progress lines when stderr is not a terminal "
                          "(default: 5)")

    server = common.add_argument_group("server and credentials")
    server.add_argument("--base-url", metavar="URL",
                        help="API server, e.g. https://open.douyin.com (default: "
                             "$DOUYIN_BASE_URL; there is no built-in default)")
    server.add_argument("--access-token-file", metavar="FILE",
                        help="read the access token from FILE (default: $DOUYIN_ACCESS_TOKEN, "
                             "or client credentials from $DOUYIN_CLIENT_KEY and "
                             "$DOUYIN_CLIENT_SECRET)")
    server.add_argument("--apps", metavar="FILE", help=APPS_HELP)
    server.add_argument("--sandbox", action="store_true",
                        help="start an embedded sandbox server and pull from it "
                             "(no credentials needed; not with --base-url)")
    for flag, kind, metavar, text in _SANDBOX_OPTIONS:
        server.add_argument(flag, type=kind, metavar=metavar, help=f"sandbox: {text}")
    server.add_argument("--sandbox-realistic", action="store_true",
                        help="sandbox: answer as the real platform does (sparse records, "
                             "nulls, mixed key styles, gateway errors, HTTP 401)")

    logs = common.add_argument_group("logging")
    logs.add_argument("-v", "--verbose", action="count", default=0,
                      help="log on stderr (-v: the pull's start and the library's info "
                           "records; -vv: also debug records: every page written, token "
                           "requests and renewals)")
    logs.add_argument("--log-format", choices=("text", "json"), default="text",
                      help="text lines, or one JSON object per line for log collectors; "
                           "json also writes the progress and summary lines as JSON "
                           "(default: text)")

    pace = common.add_argument_group("pacing and retries")
    pace.add_argument("--rate-limit", type=_positive_float, default=10.0, metavar="QPS",
                      help="requests per second of each app, both endpoints together "
                           "(default: 10, the platform's cap: more warns; an app's 'rate' in "
                           "--apps overrides it)")
    pace.add_argument("--redis-url", metavar="URL",
                      help="share each app's quota with every process that names the same "
                           "Redis (redis://, rediss:// or unix://; default: "
                           "$DOUYIN_REDIS_URL); needs pip install 'douyin-async[redis]'")
    pace.add_argument("--max-concurrency", type=_positive_int, default=10, metavar="N",
                      help="requests in flight at once, per app (default: 10)")
    pace.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SEC",
                      help="seconds per request (default: 30)")
    pace.add_argument("--max-retries", type=_non_negative_int, default=5, metavar="N",
                      help="retries of a failed request (default: 5)")
    return common


def build_parser(sandbox_options: bool = True) -> Parser:
    """The parser of the ``douyin-async`` command.

    Without ``sandbox_options``, the ``sandbox`` command is listed but its options are left
    out, so a pull never imports the sandbox package (and its web server).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pull = commands.add_parser("pull", help="pull records into a file", epilog=EPILOG,
                               formatter_class=fmt)
    kinds = pull.add_subparsers(dest="kind", required=True, metavar="KIND")
    common = _common_options()

    videos = kinds.add_parser(
        "task-videos", parents=[common], epilog=EPILOG, formatter_class=fmt,
        help="task-box video daily data (billing dates x publish windows x pages)",
        description="Daily data of task-box videos for one or more billing dates. Publish "
                    "windows over 30 days are split; every billing date is asked separately.")
    videos.add_argument("--billing-date", required=True, metavar="DAY[..DAY]",
                        help="a billing date, or an inclusive range A..B; a day is "
                             "YYYY-MM-DD, today, yesterday or -Nd (N days ago, UTC), e.g. "
                             "-7d..-1d; relative days are read once, at start")
    videos.add_argument("--published-from", required=True, metavar="TIME",
                        help="window start: a day as above (00:00:00 UTC), unix seconds or "
                             "an ISO datetime with offset; at most 90 days ago")
    videos.add_argument("--published-to", required=True, metavar="TIME",
                        help="window end, inclusive: a day as above (23:59:59 UTC that day), "
                             "unix seconds or an ISO datetime with offset")
    videos.add_argument("--douyin-id", action="append", metavar="ID",
                        help="only videos of this author (repeat for several)")
    videos.add_argument("--agency-client-key", metavar="KEY", help="the agency's client key")
    videos.add_argument("--page-size", type=_int, default=10_000, metavar="N",
                        help="records per request, 1..10000 (default: 10000)")

    media = kinds.add_parser(
        "talent-media", parents=[common], epilog=EPILOG, formatter_class=fmt,
        help="talents' videos and live rooms under commission plans (plans x talents x pages)",
        description="Videos and live rooms of talents under common commission plans.")
    media.add_argument("--plan-id", type=_int, action="append", required=True, metavar="ID",
                       help="commission plan id (repeat for several)")
    media.add_argument("--douyin-id", action="append", metavar="ID",
                       help="talent's Douyin id (repeat for several)")
    media.add_argument("--douyin-ids-file", metavar="FILE",
                       help="file of Douyin ids, one per line ('#' starts a comment)")
    media.add_argument("--content-type", type=_int, default=3, metavar="N",
                       help="1 = short videos, 2 = live rooms, 3 = both (default: 3)")
    media.add_argument("--page-size", type=_int, default=100, metavar="N",
                       help="records per request, 1..100 (default: 100)")

    from .bills import add_parser as add_bills_parser

    add_bills_parser(kinds, common, EPILOG, fmt)

    status = commands.add_parser("status", help="what an output's checkpoint holds",
                                 description="Units done and pending, records, when, and "
                                             "which server and app, of a pull's output.")
    status.add_argument("out", metavar="OUT", help="the --out of the pull")

    sandbox = commands.add_parser("sandbox", help="run the sandbox server in the foreground",
                                  formatter_class=fmt)
    if sandbox_options:
        from ..sandbox import cli as sandbox_cli

        sandbox_cli.add_arguments(sandbox)

    completion = commands.add_parser(
        "completion", help="print a shell completion script (needs the 'completion' extra)",
        formatter_class=fmt,
        description="Print a completion script for SHELL. Bash: add\n"
                    "  eval \"$(douyin-async completion bash)\"\n"
                    "to ~/.bashrc; zsh: douyin-async completion zsh > ~/.zfunc/_douyin-async\n"
                    "(with ~/.zfunc in $fpath). Needs pip install 'douyin-async[completion]'.")
    completion.add_argument("shell", choices=SHELLS, help="the shell")
    return parser
