"""Exit codes of the command-line tool, listed once, and the error that carries one.

[`EXIT_CODES`][douyin_async.cli.exits.EXIT_CODES] is the one table: the constants below, the
``douyin-async exit-codes`` page ([`help_text`][douyin_async.cli.exits.help_text]) and the
tables of the README and the batch-pulls page
([`markdown_table`][douyin_async.cli.exits.markdown_table]) are all made from it, and a test
checks the documents against it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import NamedTuple

from ..errors import (
    AuthenticationError,
    DouyinError,
    InvalidParameterError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
)


class ExitCode(NamedTuple):
    """One exit code: its number, its constant's name and what it means (``backticks``
    mark options and file names; they are dropped in ``--help``)."""

    code: int
    name: str
    meaning: str


# The table: code, constant name, meaning; an indented line continues the meaning above.
_TABLE = """
0    OK           success (also: `--resume` of a pull that already finished, `--dry-run`)
1    INTERNAL     unexpected internal error
2    USAGE        usage error: bad option or value, impossible date, publish window older
                  than 90 days, page size out of range, empty ids, no server or no
                  credentials, `--sandbox` with `--base-url`, `--redis-url` without the redis
                  package
3    FILES        file error: ids or token file unreadable, output or checkpoint unwritable,
                  damaged checkpoint
4    AUTH         authentication refused by the server
5    PERMISSION   permission denied by the server (e.g. a plan that is not the app's)
6    QUOTA        quota exhausted, or rate-limited after every retry
7    API          other API or transport error after retries (server unreachable, HTTP 404
                  ...); Redis unreachable
8    CONFLICT     output or checkpoint in the way: it exists without `--resume` or
                  `--force`, `--resume` with other parameters, server or app, the partial
                  file changed since the run, or a talent-media total changed between runs
9    APPS         bad `--apps` file: missing, unreadable, malformed, empty, a name used twice,
                  missing or mixed credentials
10   LOCKED       another run holds this output (the message names its pid)
11   QUARANTINED  the pull finished, but refused records were quarantined in
                  `OUT.rejects.jsonl` (`--on-invalid-record quarantine`)
130  INTERRUPTED  interrupted by Ctrl-C (SIGINT); `--resume` continues
141  PIPE_CLOSED  `--out -` and the reader of standard output went away (piped into `head`):
                  the pull stops quietly, with the code a shell gives a process ended by
                  SIGPIPE
143  TERMINATED   stopped by SIGTERM (systemd, Kubernetes, `timeout`): the pages written are
                  kept; `--resume` continues
"""


def _parse(table: str) -> tuple[ExitCode, ...]:
    entries: list[list[str]] = []
    for line in table.strip("\n").splitlines():
        if line[:1].isspace():
            entries[-1][2] += " " + line.strip()
        else:
            code, name, meaning = line.split(None, 2)
            entries.append([code, name, meaning])
    return tuple(ExitCode(int(code), name, meaning) for code, name, meaning in entries)


#: Every exit code of ``douyin-async``, in order.
EXIT_CODES: tuple[ExitCode, ...] = _parse(_TABLE)

_BY_NAME = {entry.name: entry.code for entry in EXIT_CODES}

OK = _BY_NAME["OK"]
#: An unexpected failure inside the tool.
INTERNAL = _BY_NAME["INTERNAL"]
#: Bad command line (see [`EXIT_CODES`][douyin_async.cli.exits.EXIT_CODES]).
USAGE = _BY_NAME["USAGE"]
#: A file could not be read or written: ids file, token file, output, checkpoint.
FILES = _BY_NAME["FILES"]
#: The server refused the credentials.
AUTH = _BY_NAME["AUTH"]
#: The app lacks the permission (scope) for the data asked.
PERMISSION = _BY_NAME["PERMISSION"]
#: Quota used up, or rate-limit answers outlasted the retries.
QUOTA = _BY_NAME["QUOTA"]
#: Any other API or transport error, after retries.
API = _BY_NAME["API"]
#: The output or its checkpoint is in the way.
CONFLICT = _BY_NAME["CONFLICT"]
#: The ``--apps`` file is missing, unreadable, malformed or empty, or an app in it is wrong.
APPS = _BY_NAME["APPS"]
#: Another run holds the output's lock.
LOCKED = _BY_NAME["LOCKED"]
#: The pull finished, but refused records were set aside.
QUARANTINED = _BY_NAME["QUARANTINED"]
#: Interrupted (Ctrl-C).
INTERRUPTED = _BY_NAME["INTERRUPTED"]
#: The reader of standard output went away (``--out -`` piped into ``head``).
PIPE_CLOSED = _BY_NAME["PIPE_CLOSED"]
#: Stopped by SIGTERM.
TERMINATED = _BY_NAME["TERMINATED"]

def help_text() -> str:
    """The exit-code table as ``douyin-async exit-codes`` prints it, 80 columns wide."""
    out = ["exit codes:"]
    for entry in EXIT_CODES:
        out += textwrap.wrap(entry.meaning.replace("`", ""), 80, subsequent_indent=" " * 7,
                             initial_indent=f"  {entry.code:<4} ")
    return "\n".join(out) + "\n"


def markdown_table() -> str:
    """The exit-code table in Markdown, as the README and the batch-pulls page show it."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {entry.code} | {entry.meaning} |" for entry in EXIT_CODES]
    return "\n".join(rows) + "\n"



class CliError(Exception):
    """An error to report as one line on stderr and exit with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def read_text(path: str, fail: Callable[[str], Exception]) -> str:
    """The text of the UTF-8 file ``path``; else ``fail(reason)`` is raised, the reason in
    the system's words (or "not text"), never the file's content."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
                   ) from None


#: The client's error classes that have an exit code of their own (others: API).
CODED_ERRORS: tuple[type[DouyinError], ...] = (
    InvalidParameterError, AuthenticationError, PermissionDeniedError, QuotaExceededError,
    RateLimitedError)


def code_for_class(cls: type[DouyinError]) -> int:
    """The exit code for an error class of the client."""
    if issubclass(cls, InvalidParameterError):
        return USAGE
    if issubclass(cls, AuthenticationError):
        return AUTH
    if issubclass(cls, PermissionDeniedError):
        return PERMISSION
    if issubclass(cls, QuotaExceededError | RateLimitedError):
        return QUOTA
    return API


def exit_code_for(error: DouyinError) -> int:
    """The exit code for an error raised by the client."""
    return code_for_class(type(error))
