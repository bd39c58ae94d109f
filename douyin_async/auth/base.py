"""The provider protocol, the fixed token, and the renewal machinery shared by renewing providers.

The client asks its provider for a token before every request and tells it when the server
called a token invalid or expired, so a renewing provider can fetch a new one. Tokens are
secrets: no provider shows them in its ``repr``, and no message or log line holds them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import attrs

from ..errors import ApiError, InvalidParameterError
from ..http.redact import register_secret

log = logging.getLogger("douyin_async.auth")

#: Default seconds before expiry at which a token is renewed.
DEFAULT_MARGIN = 300.0


@runtime_checkable
class TokenProvider(Protocol):
    """Everything the package reads from a token provider.

    When the server calls a token invalid or expired, the client invalidates it and retries
    the request once, if the provider is `renewable`.
    """

    #: True when an invalidated token is replaced by a new one (a retry can succeed).
    renewable: bool

    async def get(self) -> str:
        """A currently valid access token."""

    def current(self) -> str | None:
        """The valid token held now, without waiting, or None when none is held. Asked right
        after a rate-limit slot: a token renewed during the wait is the one sent, and with
        none valid the slot is given up rather than held across a token request."""

    async def invalidate(self, token: str) -> None:
        """The server refused ``token`` as invalid or expired; do not hand it out again."""


@attrs.frozen
class Token:
    """An access token and the unix time at which it expires. Its ``repr`` hides the value."""

    value: str = attrs.field(repr=False)
    expires_at: float


@runtime_checkable
class TokenSource(Protocol):
    """Fetches a brand-new token on every call (no caching); what a
    [`SharedToken`][douyin_async.auth.SharedToken] wraps."""

    async def fetch(self) -> Token:
        """Request a new token from the platform."""


class StaticToken:
    """A fixed token (e.g. pasted from the console). It cannot be renewed."""

    renewable = False

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise InvalidParameterError("access_token must be a non-empty string")
        register_secret(token)
        self._token = token

    async def get(self) -> str:
        """The token."""
        return self._token

    def current(self) -> str:
        """The token (never waits)."""
        return self._token

    async def invalidate(self, token: str) -> None:
        """Nothing to do: a fixed token cannot be renewed."""

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


#: A token handed out again by the server is not asked for again within this many seconds.
MIN_RENEWAL_INTERVAL = 1.0


def renew_at(expires_at: float, now: float, margin: float, *, same: bool = False) -> float:
    """When a token obtained at `now` should be renewed: `margin` seconds before it expires,
    or halfway through a shorter life; a token answered again (`same`: the stable endpoint
    keeps it to the end) is kept until it expires, at least
    [`MIN_RENEWAL_INTERVAL`][douyin_async.auth.MIN_RENEWAL_INTERVAL]."""
    if expires_at - margin > now:
        return expires_at - margin
    if same:
        return max(expires_at, now + MIN_RENEWAL_INTERVAL)
    return now + (expires_at - now) / 2


def check_margin(margin: float) -> float:
    """Validate a renewal margin (seconds, non-negative)."""
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
        raise InvalidParameterError("margin must be a non-negative number of seconds")
    return float(margin)


@attrs.frozen
class RenewalRetry:
    """How a failed background renewal is tried again: attempt `n` waits
    `min(cap, base * 2**n)` seconds times `0.5 + random() / 2` (so processes do not retry in
    step), never past the held token's expiry."""

    base: float = 1.0
    cap: float = 60.0
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, eq=False,
                                                          repr=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.cap, self.base * 2.0 ** min(attempt, 60)) * (0.5 + self.random() / 2)


@attrs.define
class _Held:
    token: Token
    renew_at: float

    def usable(self, now: float) -> bool:
        # Until it expires, or until its renewal time when that is later (a token answered
        # again by the stable endpoint is kept for MIN_RENEWAL_INTERVAL).
        return now < max(self.token.expires_at, self.renew_at)


class RenewingProvider:
    """Base of providers that obtain tokens themselves (subclasses implement `_obtain`).

    The held token is handed out until it expires and renewed in the background from its
    renewal time on, so callers wait only when no valid token is held. One `_obtain` flight at
    a time serves every waiting caller (its error goes to all of them); a failed background
    renewal is logged and retried with [`RenewalRetry`][douyin_async.auth.RenewalRetry]'s
    backoff while the held token lives.
    """

    renewable = True

    def __init__(self, *, margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.time,
                 retry: RenewalRetry | None = None) -> None:
        self.margin = check_margin(margin)
        self._clock = clock
        self.retry = retry or RenewalRetry()
        self._held: _Held | None = None
        self._last = ""  # the value of the last token obtained
        self._flight: asyncio.Task[Token] | None = None
        self._refresher: asyncio.Task[None] | None = None
        #: Tokens obtained so far by this provider (successful flights).
        self.renewals = 0
        #: Background renewals that failed while the held token was still valid.
        self.renewal_failures = 0

    async def _obtain(self) -> Token:
        """Obtain a new token (one flight)."""
        raise NotImplementedError

    async def get(self) -> str:
        """A valid token: the held one (renewed in the background once due), or one
        obtained now when none is held (shared with concurrent callers)."""
        value = self.current()
        if value is not None:
            return value
        return (await self._join()).value

    def current(self) -> str | None:
        """The held token if it is valid now, without waiting (None when there is none).

        Starts the background renewal when it is due. The client calls it right after a
        rate-limit slot, so that the time between slot and send never holds token I/O.
        """
        held = self._held
        now = self._clock()
        if held is None or not held.usable(now):
            return None
        if now >= held.renew_at:
            self._refresh_ahead()
        return held.token.value

    async def invalidate(self, token: str) -> None:
        """Drop ``token`` if it is still the held one (another caller may have renewed)."""
        held = self._held
        if held is not None and held.token.value == token:
            log.debug("%s: token refused by the server, dropped", type(self).__name__)
            self._held = None

    def _refresh_ahead(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._refresher
        if task is None or task.done() or task.get_loop() is not loop:
            self._refresher = loop.create_task(self._refresh())

    async def _refresh(self) -> None:
        """Renew in the background while the held token is valid and due, with backoff."""
        attempt = 0
        while True:
            held = self._held
            now = self._clock()
            if held is None or not held.usable(now) or now < held.renew_at:
                return  # renewed, dropped or expired: nothing more to do here
            try:
                await self._join()
                return
            except Exception as exc:  # logged and retried; no caller waits for this one
                self.renewal_failures += 1
                code = exc.code if isinstance(exc, ApiError) else None
                left = max(held.token.expires_at, held.renew_at) - self._clock()
                delay = min(self.retry.delay(attempt), max(left, 0.0))
                attempt += 1
                log.warning(
                    "%s: token renewal failed (%s%s); the held token is valid for %.0f s "
                    "more; retrying in %.1f s", type(self).__name__, type(exc).__name__,
                    f" {code}" if isinstance(code, int) else "",
                    left, delay)
                await self.retry.sleep(delay)

    async def _join(self) -> Token:
        loop = asyncio.get_running_loop()
        flight = self._flight
        if flight is None or flight.done() or flight.get_loop() is not loop:
            flight = loop.create_task(self._fly())
            flight.add_done_callback(self._landed)
            self._flight = flight
        return await asyncio.shield(flight)

    async def _fly(self) -> Token:
        token = await self._obtain()
        register_secret(token.value)
        now = self._clock()
        same, self._last = token.value == self._last, token.value
        self._held = _Held(token, renew_at(token.expires_at, now, self.margin, same=same))
        self.renewals += 1
        log.debug("%s: new token, expires in %.0f s", type(self).__name__,
                  token.expires_at - now)
        return token

    def _landed(self, flight: asyncio.Task[Token]) -> None:
        if self._flight is flight:
            self._flight = None
        if not flight.cancelled() and flight.exception() is not None:
            log.debug("%s: token request failed: %s", type(self).__name__,
                      type(flight.exception()).__name__)

    async def wait_renewal(self) -> None:
        """Wait until a background renewal in progress, if any, has ended (its failures
        stay logged, not raised)."""
        task = self._refresher
        if task is not None and not task.done():
            await asyncio.shield(task)

    async def aclose(self) -> None:
        """Stop a background renewal (a flight that callers wait for is left to finish)."""
        task, self._refresher = self._refresher, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(margin={self.margin:g})"


def token_after_slot(provider: TokenProvider, token: str) -> str | None:
    """The token to send right after a rate-limit slot was granted: the provider's
    `current()` one, which may be newer than ``token`` (got before the slot), or None."""
    return provider.current()
