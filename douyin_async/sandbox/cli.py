"""Command-line pieces: arguments, the config they describe, and a server that runs until stopped.

``python -m douyin_async.sandbox --port 8080 --latency 0.2 --jitter 0.1 --fault-rate 0.05``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import attrs

from .config import FAULT_KINDS, SandboxConfig
from .server import Sandbox

_DEFAULTS = SandboxConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox options (``--host`` and ``--port`` included) to ``parser``."""
    d = _DEFAULTS
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument("--seed", type=int, default=d.seed, help="data and fault seed")
    parser.add_argument("--qps", type=int, default=d.qps,
                        help="rolling 1 s cap per access token (0: no cap; default %(default)s)")
    parser.add_argument("--latency", type=float, default=d.latency, help="seconds per answer")
    parser.add_argument("--jitter", type=float, default=d.jitter,
                        help="uniform +- spread around --latency, seconds")
    parser.add_argument("--fault-rate", type=float, default=None,
                        help="total fault probability, split over every fault kind")
    for kind in FAULT_KINDS:
        flag = kind.replace("_", "-")
        parser.add_argument(f"--{flag}-rate", type=float, default=None, dest=f"{kind}_rate",
                            help=f"probability of the {kind} fault (overrides --fault-rate)")
    parser.add_argument("--slow-seconds", type=float, default=d.slow_seconds,
                        help="how long a slow answer is held back")
    parser.add_argument("--key-style", choices=("pascal", "snake"), default=d.key_style,
                        help="task-video record keys")
    parser.add_argument("--extra-fields", action="store_true",
                        help="add fields the client does not know to every record")
    parser.add_argument("--videos-per-hour", type=int, default=d.videos_per_hour,
                        help="mean task videos published per hour")
    parser.add_argument("--media-per-scene", type=int, default=d.media_per_scene,
                        help="most talent-media records per talent and scene")
    parser.add_argument("--published-before-billing-only", action="store_true",
                        help="hide videos published after the billing date")
    parser.add_argument("--token-lifetime", type=int, default=d.token_lifetime,
                        help="seconds an issued token lives")


def config_from_args(ns: argparse.Namespace) -> SandboxConfig:
    """The configuration the parsed options describe."""
    config = SandboxConfig(
        seed=ns.seed,
        qps=ns.qps or None,
        latency=ns.latency,
        jitter=ns.jitter,
        slow_seconds=ns.slow_seconds,
        key_style=ns.key_style,
        extra_fields=ns.extra_fields,
        videos_per_hour=ns.videos_per_hour,
        media_per_scene=ns.media_per_scene,
        published_before_billing_only=ns.published_before_billing_only,
        token_lifetime=ns.token_lifetime,
    )
    if ns.fault_rate is not None:
        config = config.with_fault_rate(ns.fault_rate)
    overrides = {f"{k}_rate": getattr(ns, f"{k}_rate") for k in FAULT_KINDS
                 if getattr(ns, f"{k}_rate", None) is not None}
    return attrs.evolve(config, **overrides) if overrides else config


def args_from_config(config: SandboxConfig) -> list[str]:
    """Options (without ``--host`` / ``--port``) that reproduce ``config``'s expressible knobs."""
    args = [
        "--seed", str(config.seed), "--qps", str(config.qps or 0),
        "--latency", repr(config.latency), "--jitter", repr(config.jitter),
        "--slow-seconds", repr(config.slow_seconds), "--key-style", config.key_style,
        "--videos-per-hour", str(config.videos_per_hour),
        "--media-per-scene", str(config.media_per_scene),
        "--token-lifetime", str(config.token_lifetime),
    ]
    for kind, rate in config.fault_rates().items():
        args += [f"--{kind.replace('_', '-')}-rate", repr(rate)]
    if config.extra_fields:
        args.append("--extra-fields")
    if config.published_before_billing_only:
        args.append("--published-before-billing-only")
    return args


async def serve_forever(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until cancelled (Ctrl-C), after printing the URL and the static token."""
    async with Sandbox(config, host=host, port=port) as sandbox:
        print(f"douyin-async sandbox listening on {sandbox.url}", flush=True)
        print(f"access token: {sandbox.token}", flush=True)
        for client in config.clients:
            print(f"client key: {client.client_key}  secret: {client.client_secret}", flush=True)
        await asyncio.Event().wait()


async def serve_until_signal(config: SandboxConfig, host: str = "127.0.0.1",
                             port: int = 8080) -> None:
    """:func:`serve_forever` until SIGTERM, which ends it cleanly (a normal return).

    Ctrl-C and cancellation still propagate, so a command line can report them.
    """
    task = asyncio.ensure_future(serve_forever(config, host, port))
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
                                     description="Run the Douyin Open Platform sandbox.")
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        config = config_from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_signal(config, ns.host, ns.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
