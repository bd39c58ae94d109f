"""Exit codes of the command-line tool and the error that carries one."""

from __future__ import annotations

from ..errors import (
    AuthenticationError,
    DouyinError,
    InvalidParameterError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
)

OK = 0
#: An unexpected failure inside the tool.
INTERNAL = 1
#: Bad command line: unknown option, impossible date, window too old, page size, empty ids,
#: missing server or credentials, ``--redis-url`` without the redis package.
USAGE = 2
#: A file could not be read or written: ids file, token file, output, checkpoint.
FILES = 3
#: The server refused the credentials.
AUTH = 4
#: The app lacks the permission (scope) for the data asked.
PERMISSION = 5
#: Quota used up, or rate-limit answers outlasted the retries.
QUOTA = 6
#: Any other API or transport error, after retries.
API = 7
#: The output or its checkpoint is in the way: it exists without --resume/--force, or
#: --resume was given with different query parameters.
CONFLICT = 8
#: The ``--apps`` file is missing, unreadable, malformed or empty, or an app in it is wrong
#: (no name, a name used twice, missing or mixed credentials, a bad rate, an unreadable
#: token file).
APPS = 9
#: Another run holds this output (its lock file names the pid).
LOCKED = 10
#: The pull finished, but records the client refused were quarantined
#: (``--on-invalid-record quarantine``, see ``OUT.rejects.jsonl``).
QUARANTINED = 11
#: Interrupted (Ctrl-C).
INTERRUPTED = 130
#: The reader of standard output went away (``--out -`` piped into ``head``): the pull stops
#: quietly with the code a shell reports for a process ended by SIGPIPE.
PIPE_CLOSED = 141

#: The exit-code table, as printed in ``--help``.
EPILOG = """\
exit codes:
  0    success (also: --resume of a pull that already finished)
  1    unexpected internal error
  2    usage error (bad option or value, impossible date, window older than 90 days,
       page size out of range, empty ids, no server or no credentials, --redis-url
       without the redis package)
  3    file error (ids or token file unreadable, output or checkpoint unwritable)
  4    authentication refused by the server
  5    permission denied by the server
  6    quota exhausted or rate-limited after retries
  7    other API or transport error after retries (also: Redis unreachable)
  8    output/checkpoint conflict (exists without --resume or --force, --resume with
       different query parameters, server or app, or a partial output changed since)
  9    bad --apps file (missing, unreadable, malformed, empty, duplicate names,
       missing or mixed credentials)
  10   another run holds this output (the message names its pid)
  11   the pull finished, but refused records were quarantined in OUT.rejects.jsonl
       (--on-invalid-record quarantine)
  130  interrupted (Ctrl-C)
  141  --out - and the reader of standard output went away (e.g. | head); no message
"""


class CliError(Exception):
    """An error to report as one line on stderr and exit with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(error: DouyinError) -> int:
    """The exit code for an error raised by the client."""
    if isinstance(error, InvalidParameterError):
        return USAGE
    if isinstance(error, AuthenticationError):
        return AUTH
    if isinstance(error, PermissionDeniedError):
        return PERMISSION
    if isinstance(error, QuotaExceededError | RateLimitedError):
        return QUOTA
    return API
