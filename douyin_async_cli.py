"""Entry point of the ``douyin-async`` command: Ctrl-C and SIGTERM are handled from the start.

Importing ``douyin_async`` takes a moment (asyncio, attrs, cattrs); a Ctrl-C or SIGTERM in
that moment would otherwise end the command with a traceback. This module is outside the
package so that it runs before any of it: until the command's own handling takes over, either
signal ends the process at once with one line and the usual exit code (130 or 143). A
signal the parent set to be ignored (a background job of a script ignores Ctrl-C) stays
ignored.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _stop_at_start(signum: int, frame: FrameType | None) -> None:
    word = "interrupted" if signum == signal.SIGINT else "terminated (SIGTERM)"
    os.write(2, f"douyin-async: error: {word}\n".encode())
    os._exit(128 + signum)


def main() -> int:
    """Install the start-up signal handling, then run [`douyin_async.cli.main`][]."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _stop_at_start)
    if sys.argv[1:2] == ["sync"]:  # the daily loads: a click group of their own
        from douyin_async.cli.sync_command import sync

        return int(sync.main(sys.argv[2:], prog_name="douyin-async sync") or 0)
    if sys.argv[1:2] == ["worker"]:  # a worker of spread syncs: a click command
        from douyin_async.cli.worker_command import worker

        return int(worker.main(sys.argv[2:], prog_name="douyin-async worker") or 0)
    if sys.argv[1:2] == ["status"] and any(a.startswith("--queue") for a in sys.argv[2:]):
        from douyin_async.cli.queue_status import queue_status

        return int(queue_status.main(sys.argv[2:], prog_name="douyin-async status") or 0)
    from douyin_async.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
