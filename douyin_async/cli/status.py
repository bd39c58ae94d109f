"""``douyin-async status OUT``: what an output's checkpoint holds.

Units done and pending, records written (and quarantined), when the pull started and last
wrote, the server and the app it reads from (never a secret), and whether a run is writing
the output now. It only reads: a run in progress is not disturbed.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import Any, TextIO

import orjson

from .exits import FILES, OK, CliError
from .outputs.checkpoint import CheckpointState, read_checkpoint
from .outputs.locks import is_locked
from .outputs.rejects import rejects_path
from .spec import output_format


def _sqlite_states(path: str) -> list[tuple[str, CheckpointState]]:
    if not os.path.isfile(path):
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CliError(f"cannot read {path!r}: {exc}", FILES) from None
    try:
        from .outputs.sqlite import read_state

        kinds = [kind for (kind,) in db.execute("SELECT kind FROM pull_state")]
        return [(kind, state) for kind in kinds if (state := read_state(db, kind))]
    except sqlite3.Error as exc:
        raise CliError(f"{path!r} holds no pull the command wrote ({exc})", FILES) from None
    finally:
        db.close()


def _when(path: str) -> str:
    try:
        moment = dt.datetime.fromtimestamp(os.path.getmtime(path), dt.UTC)
    except OSError:
        return "unknown"
    return moment.isoformat(timespec="seconds")


def describe(out: str, kind: str, state: CheckpointState, written: str) -> list[str]:
    """The lines ``status`` prints for one pull."""
    done = sum(1 for _, finished in state.units.values() if finished)
    started = len(state.units) - done
    planned = state.meta.get("units")
    if state.complete:
        condition = "complete"
    else:
        pid = is_locked(out)
        condition = ("being written now by " + (f"pid {pid}" if pid else "another run")
                     if pid is not None else "interrupted: continue it with --resume")
    units = f"{done:,} done"
    if isinstance(planned, int):
        units += f", {max(planned - done, 0):,} pending ({started:,} started) of {planned:,}"
    else:
        units += f", {started:,} started"
    params = state.params
    records = f"{state.records:,} written"
    if state.rejected:
        records += f", {state.rejected:,} refused (in {rejects_path(out)})"
    shown = {k: v for k, v in params.items() if k not in ("server", "app", "kind", "format")}
    return [
        f"{out}: {kind} pull, {condition}",
        f"  server: {params.get('server', 'not recorded')}",
        f"  app: {_app_text(params.get('app'))}",
        f"  units: {units}",
        f"  records: {records}",
        f"  started: {state.meta.get('started', 'unknown')}, last written: {written}",
        "  parameters: " + ", ".join(f"{k}={_value(v)}" for k, v in shown.items()),
    ]


def _app_text(app: Any) -> str:
    if isinstance(app, dict):
        return "; ".join(f"{name}: {value}" for name, value in app.items())
    return "not recorded" if app is None else str(app)


def _value(value: Any) -> str:
    return orjson.dumps(value).decode() if isinstance(value, list | dict) else str(value)


def _has_checkpoint(out: str, fmt: str) -> bool:
    if fmt != "sqlite":
        return os.path.isfile(out + ".ckpt")
    try:
        return bool(_sqlite_states(out))
    except CliError:
        return False


def show_status(out: str, stream: TextIO) -> int:
    """Print what the checkpoint of ``out`` holds; raise a
    [`CliError`][douyin_async.cli.exits.CliError] (exit code 3) when there is none."""
    fmt = output_format(out)
    pid = is_locked(out)
    if pid is not None and not _has_checkpoint(out, fmt):
        who = f"pid {pid}" if pid else "another run"
        stream.write(f"{out}: being written now by {who}; no page recorded yet\n")
        return OK
    if fmt == "sqlite":
        states = _sqlite_states(out)
        written = _when(out)
    else:
        path = out + ".ckpt"
        state = read_checkpoint(path)
        states = [] if state is None else [(str(state.params.get("kind", "?")), state)]
        written = _when(path)
    if not states:
        raise CliError(f"no checkpoint for {out!r}: nothing was pulled into it, or it was "
                       "written without one (--out -)", FILES)
    for kind, state in states:
        lines = describe(out, kind, state, written)
        if fmt != "sqlite" and not state.complete:
            lines.append("  output: " + _prefix_check(out, fmt, state))
        stream.write("\n".join(lines) + "\n")
    return OK


def _prefix_check(out: str, fmt: str, state: CheckpointState) -> str:
    """Whether the partial output still holds what the checkpoint recorded."""
    from .outputs.sinks import prefix_digest
    from .outputs.xlsx import side_path

    path = side_path(out) if fmt == "xlsx" else out
    try:
        size = os.path.getsize(path)
        same = size >= state.offset and (
            not state.offset or prefix_digest(path, state.offset).hexdigest() == state.sha256)
    except OSError:
        size, same = 0, state.offset == 0
    if not same:
        return f"{path} was changed since the pull wrote it: --resume will refuse it"
    return f"{path} holds the {state.offset:,} bytes the checkpoint recorded"


__all__ = ["describe", "show_status"]
