"""``douyin-async sandbox``: the sandbox server in the foreground, until Ctrl-C or SIGTERM.

Its options are the ones of ``python -m douyin_async.sandbox``, made from the sandbox's option
tables and read into a configuration by the sandbox's own
[`config_from_args`][douyin_async.sandbox.options.config_from_args]. The command is built only
when it is named, so a pull never imports the sandbox package.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import click

from .exits import USAGE, CliError
from .options import FRACTION, INT, NON_NEGATIVE, NON_NEGATIVE_INT, Narrow


def _option(flag: str, kind: Any, default: Any, text: str, **more: Any) -> click.Option:
    return click.Option([flag], type=kind, default=default, help=text, **more)


def _options() -> list[click.Parameter]:
    """The options, from the sandbox's tables and defaults."""
    from ..sandbox import options as table
    from ..sandbox.config import BILL_ENCODINGS, FAULT_KINDS, SandboxConfig

    d = SandboxConfig()
    options: list[click.Parameter] = [
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
        *(_option(flag, kind, getattr(d, flag[2:].replace("-", "_")), text)
          for flag, kind, text in table._FILE_FAULTS),
    ]
    return options


def _serve(**params: Any) -> None:
    from ..sandbox import cli as sandbox_cli

    try:
        config = sandbox_cli.config_from_args(argparse.Namespace(**params))
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from None
    asyncio.run(sandbox_cli.serve_until_signal(config, params["host"], params["port"]))


def sandbox_command() -> click.Command:
    """The ``sandbox`` command."""
    from ..sandbox.config import CLIENT_KEY, CLIENT_SECRET, STATIC_TOKEN

    settings = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
    epilog = ("It listens on 127.0.0.1:8080 unless --host / --port say otherwise (--port 0: "
              "any free port) and prints the URL and the port on start.\n\n\b\n"
              f"Credentials it accepts:\n  access token   {STATIC_TOKEN} (header access-token; "
              f"never expires)\n  client key     {CLIENT_KEY} (token endpoints, with the "
              f"secret)\n  client secret  {CLIENT_SECRET}")
    return Narrow("sandbox", callback=_serve, params=_options(), context_settings=settings,
                  help="Run the sandbox server in the foreground (Ctrl-C or SIGTERM stops "
                       "it).", epilog=epilog)


__all__ = ["sandbox_command"]
