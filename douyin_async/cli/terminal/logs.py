"""Logging of the command line: ``-v`` / ``-vv`` and ``--log-format json``.

The library logs under ``douyin_async.*`` with the standard `logging` module; the
command sends those records to stderr, as text lines or as one JSON object per line. With
``json``, the progress and summary lines of a pull are records too (logger
``douyin_async.cli``, with their figures as fields), so a log collector reads one format.
The command logs its start at info (``-v``) and every page written at debug (``-vv``).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any, TextIO

import orjson

#: The command's name, as its messages start.
PROG = "douyin-async"
#: The logger of the command's own lines (progress, summary, warnings).
CLI_LOGGER = "douyin_async.cli"
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items()
                      if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return orjson.dumps(entry, default=str).decode()


def say(message: str, kind: str = "error", *, json: bool = False, code: int | None = None
        ) -> None:
    """Tell ``message`` on one line of stderr: ``douyin-async: KIND: ...``, or with ``json``
    a record of the command's logger (with its ``exit_code``), as every JSON line is."""
    text = " ".join(message.split())
    if not text:
        return
    if json:
        record = logging.LogRecord(CLI_LOGGER, logging.getLevelNamesMapping()[kind.upper()],
                                   "", 0, text, None, None)
        record.__dict__.update({} if code is None else {"exit_code": code})
        text = JsonFormatter().format(record)
    else:
        text = f"{PROG}: {kind}: {text}"
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def configure(verbosity: int, fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """Send ``douyin_async.*`` records to ``stream`` (stderr): warnings, with ``-v`` info,
    with ``-vv`` debug. Returns the handler (to remove it again)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("douyin_async")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity else
                  logging.WARNING)
    root.propagate = False
    # The command's own records: its start and, with -vv, every page written. As JSON, the
    # progress and summary lines are info records too, so info is always on there.
    logging.getLogger(CLI_LOGGER).setLevel(
        logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity or fmt == "json"
        else logging.WARNING)
    return handler


def unconfigure(handler: logging.Handler) -> None:
    """Undo [`configure`][douyin_async.cli.terminal.logs.configure]."""
    root = logging.getLogger("douyin_async")
    root.removeHandler(handler)
    root.setLevel(logging.NOTSET)
    root.propagate = True
    logging.getLogger(CLI_LOGGER).setLevel(logging.NOTSET)
