"""The sandbox's command-line options and the configuration they describe.

Light to import (no server, no ``aiohttp.web``): ``douyin-async`` builds its parser from
`add_arguments` without loading the sandbox.
"""

from __future__ import annotations

import argparse

import attrs

from .config import (
    BILL_ENCODINGS,
    CLIENT_KEY,
    CLIENT_SECRET,
    FAULT_KINDS,
    STATIC_TOKEN,
    SandboxConfig,
)

#: What ``--help`` says about where the server listens and which credentials it accepts
#: (laid out for a raw-description formatter).
CREDENTIALS_HELP = f"""\
where it listens:
  127.0.0.1:8080 unless --host / --port say otherwise (--port 0: any free port);
  the URL and the port are printed on start.

credentials it accepts:
  access token   {STATIC_TOKEN}   (header access-token; never expires)
  client key     {CLIENT_KEY}   (token endpoints, with the secret below)
  client secret  {CLIENT_SECRET}
"""

_DEFAULTS = SandboxConfig()

#: Integer options named after their ``SandboxConfig`` field.
_INT_OPTIONS = (
    ("--videos-per-hour", "mean task videos published per hour"),
    ("--media-per-scene", "most talent-media records per talent and scene"),
    ("--token-lifetime", "seconds an issued token lives"),
    ("--bill-rows", "rows of each video bill file"),
    ("--bill-live-rows", "rows of each live-room bill file"),
    ("--bill-link-lifetime", "seconds a signed bill link stays valid"),
    ("--apps", "further apps served, each with a static token and a quota of its own"),
)
#: File-host faults: (option, type, help).
_FILE_FAULTS: tuple[tuple[str, type, str], ...] = (
    ("--bill-cut-after", int, "cut every bill download after this many bytes"),
    ("--bill-cut-rate", float, "probability that a bill download is cut mid-body"),
    ("--bill-error-rate", float, "probability that the file host answers 503"),
    ("--bill-fault-limit", int, "at most this many file-host faults in all"),
)
#: Switches, off by default.
_SWITCHES = (
    ("--extra-fields", "add fields the client does not know to every record"),
    ("--published-before-billing-only", "hide videos published after the billing date"),
    ("--realistic", "answers shaped like the real platform's: sparse records, mixed key "
                    "styles, unknown keys, gateway errors, HTTP 401, token latency"),
    ("--bill-no-ranges", "the file host ignores Range requests"),
)


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
    for flag, help_text in _INT_OPTIONS:
        name = flag[2:].replace("-", "_")
        parser.add_argument(flag, type=int, default=getattr(d, name), help=help_text)
    for flag, help_text in _SWITCHES:
        parser.add_argument(flag, action="store_true", help=help_text)
    parser.add_argument("--bill-encoding", choices=BILL_ENCODINGS, default=d.bill_encoding,
                        help="encoding of the bill files")
    for flag, number, help_text in _FILE_FAULTS:
        parser.add_argument(flag, type=number, default=getattr(d, flag[2:].replace("-", "_")),
                            help=help_text)
    parser.add_argument("--write-apps", metavar="FILE",
                        help="write an apps file of the --apps apps (for --apps of pull, "
                             "sync and worker)")
    if parser.epilog is None:
        parser.epilog = CREDENTIALS_HELP


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
        realism="realistic" if ns.realistic else "tidy",
        bill_rows=ns.bill_rows,
        bill_live_rows=ns.bill_live_rows,
        bill_encoding=ns.bill_encoding,
        bill_link_lifetime=ns.bill_link_lifetime,
        bill_ranges=not ns.bill_no_ranges,
        apps=ns.apps,
        **{flag[2:].replace("-", "_"): getattr(ns, flag[2:].replace("-", "_"))
           for flag, _, _ in _FILE_FAULTS},
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
        "--bill-rows", str(config.bill_rows), "--bill-live-rows", str(config.bill_live_rows),
        "--bill-encoding", config.bill_encoding,
        "--bill-link-lifetime", str(config.bill_link_lifetime),
        "--apps", str(config.apps),
    ]
    for kind, rate in config.fault_rates().items():
        args += [f"--{kind.replace('_', '-')}-rate", repr(rate)]
    for flag, _, _ in _FILE_FAULTS:
        value = getattr(config, flag[2:].replace("-", "_"))
        if value is not None:
            args += [flag, repr(value)]
    if config.extra_fields:
        args.append("--extra-fields")
    if config.published_before_billing_only:
        args.append("--published-before-billing-only")
    if config.realistic:
        args.append("--realistic")
    if not config.bill_ranges:
        args.append("--bill-no-ranges")
    return args
