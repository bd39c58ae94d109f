"""Providers that obtain tokens from the platform: an app's client token, and a service
provider's authorizer token for an app it acts for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict, Unpack

import aiohttp

from ..errors import ApiError, InvalidParameterError
from ..http.codes import TOKEN_EXPIRED_CODES
from ..http.redact import register_secret
from .base import DEFAULT_MARGIN, RenewalRetry, RenewingProvider, Token, TokenProvider
from .endpoints import (
    AUTHORIZER_TOKEN_ENDPOINT,
    CLIENT_TOKEN_ENDPOINT,
    STABLE_CLIENT_TOKEN_ENDPOINT,
    AuthorizerGrant,
    Transport,
    decode_authorizer_token,
    decode_client_token,
)


def _check_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise InvalidParameterError(f"base_url must be an http(s) URL, got {base_url!r}")
    return base_url.rstrip("/")


def _check_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(f"{name} must be a non-empty string")
    return value


class PlatformOptions(TypedDict, total=False):
    """The options every provider that asks the platform for tokens takes: `margin` (renew
    this many seconds before expiry), `clock` (unix time; tests inject one), `session` (an
    `aiohttp.ClientSession` for token requests, left open; by default each token request
    opens its own), `timeout` (seconds per token request), `ssl` (passed to aiohttp) and
    `retry` (the backoff of renewals in the background)."""

    margin: float
    clock: Callable[[], float]
    session: aiohttp.ClientSession | None
    timeout: float
    ssl: Any
    retry: RenewalRetry | None


class _FromPlatform(RenewingProvider):
    """A provider that asks the platform's token endpoints: the options above, checked."""

    def __init__(self, base_url: str, options: PlatformOptions) -> None:
        unknown = sorted(options.keys() - PlatformOptions.__annotations__.keys())
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected options {unknown}")
        super().__init__(margin=options.get("margin", DEFAULT_MARGIN),
                         clock=options.get("clock", time.time), retry=options.get("retry"))
        self._transport = Transport(_check_url(base_url), options.get("session"),
                                    options.get("timeout", 30.0), options.get("ssl", True))


class ClientCredentials(_FromPlatform):
    """An app's client token (``client_credential`` grant), renewed ahead of expiry.

    Args:
        client_key: the app's client key.
        client_secret: the app's client secret (never shown in a ``repr``, a message or a
            log line).
        base_url: the server, e.g. ``DOUYIN_OPEN_API`` or a sandbox URL.
        stable: use ``/oauth/stable_client_token/`` (the default), which answers the same
            token while it is valid, so that many instances can renew without invalidating
            each other's tokens. ``False`` uses ``/oauth/client_token/``: every call creates a
            new token, and the previous one dies five minutes later.
        **options: see [`PlatformOptions`][douyin_async.auth.providers.PlatformOptions].

    Renewal and single flight as for every
    [`RenewingProvider`][douyin_async.auth.RenewingProvider].
    """

    def __init__(self, client_key: str, client_secret: str, *, base_url: str,
                 stable: bool = True, **options: Unpack[PlatformOptions]) -> None:
        super().__init__(base_url, options)
        self.client_key = _check_text("client_key", client_key)
        self._client_secret = _check_text("client_secret", client_secret)
        register_secret(client_secret)
        self.stable = bool(stable)
        self.endpoint = STABLE_CLIENT_TOKEN_ENDPOINT if stable else CLIENT_TOKEN_ENDPOINT

    async def fetch(self) -> Token:
        """Request a token from the platform now (no caching, no single flight)."""
        now = self._clock()
        body = {"client_key": self.client_key, "client_secret": self._client_secret,
                "grant_type": "client_credential"}
        status, data, header_log_id = await self._transport.request(
            "POST", self.endpoint, json=body)
        return decode_client_token(data, http_status=status, endpoint=self.endpoint, now=now,
                                   header_log_id=header_log_id)

    async def _obtain(self) -> Token:
        return await self.fetch()

    def __repr__(self) -> str:
        return (f"ClientCredentials(client_key={self.client_key!r}, "
                f"base_url={self._transport.base_url!r}, stable={self.stable}, "
                f"margin={self.margin:g})")


class AuthorizerTokens(_FromPlatform):
    """A service provider's access token for an app that authorised it.

    Each request answers an access token (about 2 h) and a *new* refresh token, which
    replaces the previous one: `on_refresh_token` persists it before the access token is
    handed out (if it raises, the flight fails and the next call offers it again).

    Args:
        client_token: the service provider's own token provider (e.g.
            [`ClientCredentials`][douyin_async.auth.ClientCredentials] of the provider app); sent
            in the ``access-token`` header. When the endpoint calls it expired (2190002 / 2190008),
            it is invalidated and the request is sent once more.
        base_url: the server.
        refresh_token: the last saved ``authorizer_refresh_token``.
        authorization_code: an authorisation code, used for the first request when no refresh
            token is known (a code works once).
        on_refresh_token: ``async (new_refresh_token) -> None``; persist it. Required.
        load_refresh_token: optional ``async () -> str | None`` called before every refresh;
            a non-empty answer replaces the refresh token in memory (for processes sharing
            one persisted refresh token, see [`SharedToken`][douyin_async.auth.SharedToken]).
        **options: see [`PlatformOptions`][douyin_async.auth.providers.PlatformOptions].
    """

    endpoint = AUTHORIZER_TOKEN_ENDPOINT

    def __init__(
        self,
        client_token: TokenProvider,
        *,
        base_url: str,
        on_refresh_token: Callable[[str], Awaitable[None]],
        refresh_token: str | None = None,
        authorization_code: str | None = None,
        load_refresh_token: Callable[[], Awaitable[str | None]] | None = None,
        **options: Unpack[PlatformOptions],
    ) -> None:
        super().__init__(base_url, options)
        if not isinstance(client_token, TokenProvider):
            raise InvalidParameterError("client_token must be a TokenProvider")
        if not callable(on_refresh_token):
            raise InvalidParameterError("on_refresh_token must be an async callable")
        if refresh_token is not None:
            _check_text("refresh_token", refresh_token)
        if authorization_code is not None:
            _check_text("authorization_code", authorization_code)
        if refresh_token is None and authorization_code is None and load_refresh_token is None:
            raise InvalidParameterError(
                "give a refresh_token, an authorization_code or load_refresh_token")
        self.client_token = client_token
        self._refresh_token = refresh_token
        self._code = authorization_code
        self._on_refresh_token = on_refresh_token
        self._load_refresh_token = load_refresh_token
        self._lock = asyncio.Lock()

    async def fetch(self) -> Token:
        """Request a new authorizer token now, and hand the new refresh token to the hook.

        Calls are serialised: the refresh token changes with every call.
        """
        async with self._lock:
            if self._load_refresh_token is not None:
                loaded = await self._load_refresh_token()
                if loaded:
                    self._refresh_token = loaded
            grant = await self._request()
            self._refresh_token = grant.refresh_token
            self._code = None
            await self._on_refresh_token(grant.refresh_token)
            return grant.token

    def _params(self) -> dict[str, str]:
        if self._refresh_token:
            return {"grant_type": "app_to_tp_refresh_token",
                    "authorizer_refresh_token": self._refresh_token}
        if self._code:
            return {"grant_type": "app_to_tp_authorization_code",
                    "authorization_code": self._code}
        raise InvalidParameterError("no refresh token or authorization code to refresh with")

    async def _request(self) -> AuthorizerGrant:
        params = self._params()
        retried = False
        while True:
            own = await self.client_token.get()
            now = self._clock()
            status, data, header_log_id = await self._transport.request(
                "GET", self.endpoint, params=params, headers={"access-token": own})
            try:
                return decode_authorizer_token(data, http_status=status, endpoint=self.endpoint,
                                               now=now, header_log_id=header_log_id)
            except ApiError as exc:
                if (retried or exc.code not in TOKEN_EXPIRED_CODES
                        or not self.client_token.renewable):
                    raise
                retried = True
                await self.client_token.invalidate(own)

    async def _obtain(self) -> Token:
        return await self.fetch()

    def __repr__(self) -> str:
        return (f"AuthorizerTokens(client_token={self.client_token!r}, "
                f"base_url={self._transport.base_url!r}, margin={self.margin:g})")
