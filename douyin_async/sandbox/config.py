"""Sandbox settings: one frozen value holding every knob, with quiet defaults.

The defaults give a well-behaved server: no latency, no faults, the documented 10 QPS cap per
access token, PascalCase record keys and the static token ``sandbox-token``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

#: The access token every sandbox accepts unless configured otherwise. It never expires.
STATIC_TOKEN = "sandbox-token"
#: The default registered client of the token endpoints.
CLIENT_KEY = "sandbox-client-key"
CLIENT_SECRET = "sandbox-client-secret"

#: Fault kinds, in the order the dice are read.
FAULT_KINDS = ("server_error", "bad_gateway", "reset", "cut_body", "rate_limit", "slow")

#: How ``SandboxConfig.with_fault_rate`` splits a total fault rate between the kinds.
FAULT_MIX = {
    "server_error": 0.30,
    "bad_gateway": 0.20,
    "reset": 0.15,
    "cut_body": 0.15,
    "rate_limit": 0.15,
    "slow": 0.05,
}

KeyStyle = Literal["pascal", "snake"]
#: ``"tidy"``: every record carries every key, as the API pages print them. ``"realistic"``:
#: answers shaped like the real platform's (see ``douyin_async.sandbox.realism``).
Realism = Literal["tidy", "realistic"]
#: Encodings of the bill files: UTF-8 with a BOM, plain UTF-8, or GB18030.
BillEncoding = Literal["utf-8-sig", "utf-8", "gb18030"]
BILL_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
#: The token-endpoint delay of the realistic profile when ``token_latency`` is not set.
REALISTIC_TOKEN_LATENCY = 0.05


@attrs.frozen
class RegisteredClient:
    """An app known to the token endpoints.

    ``capable=False`` models an app without the task-video data capability: its tokens are
    answered 28001018 on the task-video endpoint. ``agency=False`` models an app without the
    agency scope (``taskbox.agent.admin``): its tokens are answered 28001018 on the agency
    bill-link endpoint.
    """

    client_key: str
    client_secret: str
    capable: bool = True
    agency: bool = True


class ManualClock:
    """A clock that moves only when told, for exact tests of time rules.

    Call it for unix seconds (the ``clock`` knob); use ``monotonic`` for the ``monotonic``
    knob. ``advance`` moves both.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else float(start)
        self._mono = 1000.0

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, moved by ``advance`` like the wall clock."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        self.now += seconds
        self._mono += seconds


def _rate(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within 0..1, got {value!r}")


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """Every sandbox knob.

    Data:
        seed: drives every generated value, fault dice and issued token.
        videos_per_hour: mean number of videos published per unix hour (each hour holds
            ``0 .. 2 * videos_per_hour`` of them, uniformly).
        authors: size of the author pool (douyin ids).
        tasks: size of the task pool.
        agency_keys: agency client keys; author ``a`` belongs to agency ``a % len(agency_keys)``.
            ``len(agency_keys)`` must divide ``authors``.
        media_per_scene: the talent-media total of one (plan, talent) in one scene is
            ``0 .. media_per_scene``.
        key_style: task-video record keys, ``"pascal"`` (as the API page prints) or ``"snake"``.
        extra_fields: add a field the client does not know (``TalentProfit1d`` /
            ``talent_profit_1d``) to task-video records, and ``commission_rate`` to media.
        published_before_billing_only: when set, a task-video query only sees videos published
            before the end of its billing date (Asia/Shanghai day).
        forbidden_plan_ids / forbidden_plan_suffix: plans the app may not query (2100007); a
            plan is also forbidden when ``plan_id % 1000 == forbidden_plan_suffix``.
        realism: ``"tidy"`` (every key present, one key style) or ``"realistic"`` (sparse
            records, mixed key styles, an unknown key per record, gateway-style errors, HTTP
            401 for a bad token, ``extra.now`` in milliseconds; ``key_style`` and
            ``extra_fields`` are then ignored for task videos).

    Bill files:
        bill_rows / bill_live_rows: rows of each video / live-room bill file.
        bill_encoding: ``"utf-8-sig"`` (UTF-8 with a BOM), ``"utf-8"`` or ``"gb18030"``.
        bill_link_lifetime: seconds a signed download link is valid.
        bill_ranges: whether the file host honours ``Range`` (False: always the whole file,
            no ``Accept-Ranges``).
        bill_cut_after: cut every download after this many body bytes (None: never).
        bill_cut_rate: probability that a download is cut at a random point of its body.
        bill_error_rate: probability that the file host answers 503.
        bill_fault_limit: at most this many file-host faults in all (None: no limit).

    Traffic:
        qps: rolling cap per access token across both data endpoints (None: no cap).
        qps_window: the window length of that cap, seconds.
        latency / jitter: every answer waits ``latency +- jitter`` seconds (uniform).
        *_rate: probability of each fault kind on a data request (they must sum to <= 1).
        slow_seconds: how long a ``slow`` fault holds the answer back.

    Auth:
        static_tokens: tokens accepted forever. incapable_tokens: static tokens answered 28001018
            on the task-video endpoint. clients: apps known to the token endpoints.
        token_lifetime: seconds an issued token lives. token_grace: how long the previous
            client token stays valid after a new one is issued.
        refresh_token_lifetime: seconds an authorizer refresh token lives.
        token_call_limit / token_call_window: calls per client key before 10020.
        token_latency: extra seconds every token-endpoint answer waits (None: 0, or
            ``REALISTIC_TOKEN_LATENCY`` in the realistic profile).
        non_agency_tokens: static tokens answered 28001018 on the agency bill-link endpoint.
        apps: the number of further apps served, each with a static token of its own
            ([`app_tokens`][douyin_async.sandbox.config.SandboxConfig.app_tokens]) and so a
            quota of its own.

    Clocks:
        clock: unix seconds (90-day rule, token expiry, ``now`` fields).
        monotonic: seconds for the QPS window and the request log.
    """

    seed: int = 0
    videos_per_hour: int = attrs.field(default=50, validator=_non_negative)
    authors: int = attrs.field(default=1000, validator=_positive)
    tasks: int = attrs.field(default=24, validator=_positive)
    agency_keys: tuple[str, ...] = (
        "sandbox-agency-0",
        "sandbox-agency-1",
        "sandbox-agency-2",
        "sandbox-agency-3",
    )
    media_per_scene: int = attrs.field(default=1000, validator=_non_negative)
    key_style: KeyStyle = "pascal"
    extra_fields: bool = False
    published_before_billing_only: bool = False
    forbidden_plan_ids: frozenset[int] = frozenset()
    forbidden_plan_suffix: int | None = 403
    realism: Realism = "tidy"

    bill_rows: int = attrs.field(default=2000, validator=_non_negative)
    bill_live_rows: int = attrs.field(default=200, validator=_non_negative)
    bill_encoding: BillEncoding = "utf-8-sig"
    bill_link_lifetime: int = attrs.field(default=3600, validator=_positive)
    bill_ranges: bool = True
    bill_cut_after: int | None = None
    bill_cut_rate: float = attrs.field(default=0.0, validator=_rate)
    bill_error_rate: float = attrs.field(default=0.0, validator=_rate)
    bill_fault_limit: int | None = None

    qps: int | None = 10
    qps_window: float = attrs.field(default=1.0, validator=_positive)
    latency: float = attrs.field(default=0.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.0, validator=_non_negative)
    server_error_rate: float = attrs.field(default=0.0, validator=_rate)
    bad_gateway_rate: float = attrs.field(default=0.0, validator=_rate)
    reset_rate: float = attrs.field(default=0.0, validator=_rate)
    cut_body_rate: float = attrs.field(default=0.0, validator=_rate)
    rate_limit_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_seconds: float = attrs.field(default=30.0, validator=_non_negative)

    static_tokens: frozenset[str] = frozenset({STATIC_TOKEN})
    incapable_tokens: frozenset[str] = frozenset()
    clients: tuple[RegisteredClient, ...] = (RegisteredClient(CLIENT_KEY, CLIENT_SECRET),)
    token_lifetime: int = attrs.field(default=7200, validator=_positive)
    token_grace: float = attrs.field(default=300.0, validator=_non_negative)
    refresh_token_lifetime: int = attrs.field(default=30 * 86400, validator=_positive)
    token_call_limit: int = attrs.field(default=500, validator=_positive)
    token_call_window: float = attrs.field(default=300.0, validator=_positive)
    token_latency: float | None = None
    non_agency_tokens: frozenset[str] = frozenset()
    apps: int = attrs.field(default=0, validator=_non_negative)

    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    monotonic: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)

    @property
    def app_tokens(self) -> dict[str, str]:
        """The further apps' names and static tokens (`app-1`: `sandbox-token-app-1`)."""
        return {f"app-{n}": f"{STATIC_TOKEN}-app-{n}" for n in range(1, self.apps + 1)}

    def is_static(self, token: str) -> bool:
        """Whether `token` is accepted forever (a static token, or a further app's)."""
        return token in self.static_tokens or (
            self.apps > 0 and token in self.app_tokens.values())

    def __attrs_post_init__(self) -> None:
        if self.key_style not in ("pascal", "snake"):
            raise ValueError(f"key_style must be 'pascal' or 'snake', got {self.key_style!r}")
        if self.realism not in ("tidy", "realistic"):
            raise ValueError(f"realism must be 'tidy' or 'realistic', got {self.realism!r}")
        if self.bill_encoding not in BILL_ENCODINGS:
            raise ValueError(f"bill_encoding must be one of {BILL_ENCODINGS}, "
                             f"got {self.bill_encoding!r}")
        if self.bill_cut_after is not None and self.bill_cut_after < 0:
            raise ValueError("bill_cut_after must not be negative")
        if self.bill_cut_rate + self.bill_error_rate > 1.0 + 1e-9:
            raise ValueError("bill_cut_rate + bill_error_rate must be at most 1")
        if self.token_latency is not None and self.token_latency < 0:
            raise ValueError("token_latency must not be negative")
        if self.qps is not None and self.qps < 1:
            raise ValueError(f"qps must be >= 1 or None, got {self.qps!r}")
        if self.jitter > self.latency:
            raise ValueError("jitter must not exceed latency")
        if self.videos_per_hour > 1000:
            raise ValueError("videos_per_hour must be <= 1000")
        if not self.agency_keys or self.authors % len(self.agency_keys):
            raise ValueError("len(agency_keys) must be >= 1 and divide authors")
        if sum(self.fault_rates().values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must sum to at most 1")

    @property
    def realistic(self) -> bool:
        """Whether the realistic profile is on."""
        return self.realism == "realistic"

    def token_delay(self) -> float:
        """Seconds every token-endpoint answer waits on top of ``latency``."""
        if self.token_latency is not None:
            return self.token_latency
        return REALISTIC_TOKEN_LATENCY if self.realistic else 0.0

    def fault_rates(self) -> dict[str, float]:
        """The probability of each fault kind, keyed by kind name (see ``FAULT_KINDS``)."""
        return {kind: float(getattr(self, f"{kind}_rate")) for kind in FAULT_KINDS}

    def with_fault_rate(self, total: float) -> SandboxConfig:
        """A copy whose fault kinds share ``total`` in the proportions of ``FAULT_MIX``."""
        if not 0.0 <= total <= 1.0:
            raise ValueError(f"total fault rate must be within 0..1, got {total!r}")
        rates: dict[str, Any] = {f"{k}_rate": total * share for k, share in FAULT_MIX.items()}
        return attrs.evolve(self, **rates)

    def with_manual_clock(self, clock: ManualClock) -> SandboxConfig:
        """A copy reading both clocks from ``clock``."""
        return attrs.evolve(self, clock=clock, monotonic=clock.monotonic)
