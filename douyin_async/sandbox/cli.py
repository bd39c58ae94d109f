"""Running the sandbox from a command line: a server that runs until stopped.

``python -m douyin_async.sandbox --port 8080 --latency 0.2 --jitter 0.1 --fault-rate 0.05``.
The options themselves are in `douyin_async.sandbox.options` (re-exported here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence

from .config import SandboxConfig
from .options import CREDENTIALS_HELP, add_arguments, args_from_config, config_from_args


def write_apps(config: SandboxConfig, path: str) -> None:
    """Write an apps file (JSON) of the sandbox's further apps and their tokens."""
    apps = [{"name": name, "access_token": token} for name, token in config.app_tokens.items()]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"apps": apps}, handle, indent=2)
        handle.write("\n")


async def serve_forever(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8080,
                        apps_file: str | None = None) -> None:
    """Serve until cancelled (Ctrl-C), after printing the URL and the static tokens (and
    writing the apps file `apps_file`)."""
    from .server import Sandbox

    if apps_file is not None:
        write_apps(config, apps_file)
    async with Sandbox(config, host=host, port=port) as sandbox:
        print(f"douyin-async sandbox listening on {sandbox.url}", flush=True)
        print(f"port: {sandbox.port}", flush=True)
        print(f"access token: {sandbox.token}", flush=True)
        for client in config.clients:
            print(f"client key: {client.client_key}  secret: {client.client_secret}", flush=True)
        for name, token in config.app_tokens.items():
            print(f"app {name} access token: {token}", flush=True)
        if apps_file is not None:
            print(f"apps file: {apps_file}", flush=True)
        await asyncio.Event().wait()


async def serve_until_signal(config: SandboxConfig, host: str = "127.0.0.1",
                             port: int = 8080, apps_file: str | None = None) -> None:
    """``serve_forever`` until SIGTERM, which ends it cleanly (a normal return).

    Ctrl-C and cancellation still propagate, so a command line can report them.
    """
    task = asyncio.ensure_future(serve_forever(config, host, port, apps_file))
    terminated = asyncio.Event()

    def terminate() -> None:
        terminated.set()
        task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        await task
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m douyin_async.sandbox``."""
    parser = argparse.ArgumentParser(prog="python -m douyin_async.sandbox",
                                     description="Run the Douyin Open Platform sandbox.",
                                     epilog=CREDENTIALS_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        config = config_from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_signal(config, ns.host, ns.port, ns.write_apps))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CREDENTIALS_HELP", "add_arguments", "args_from_config", "config_from_args", "main",
           "serve_forever", "serve_until_signal"]
