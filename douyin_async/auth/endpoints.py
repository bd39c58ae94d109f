"""The token endpoints: one request each, and pure decoders of their answers.

The client-token endpoints (`POST /oauth/client_token/`, `/oauth/stable_client_token/`)
answer `{"data": {"access_token", "expires_in", "error_code", "description"}, "message"}`;
the authorizer-token endpoint (`GET /api/tpapp/v2/auth/get_auth_token/`) answers the `err_no`
envelope around `authorizer_access_token`, `expires_in` and `authorizer_refresh_token`. These
answers hold secrets, so no error built here quotes a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
import orjson

from ..errors import ResponseDecodeError
from ..http.envelopes import HIDDEN_BODY, as_count, open_envelope
from ..http.redact import register_secret
from ..http.transport import AiohttpTransport, Request
from ..http.transport import Transport as HttpTransport
from .base import Token

CLIENT_TOKEN_ENDPOINT = "/oauth/client_token/"
STABLE_CLIENT_TOKEN_ENDPOINT = "/oauth/stable_client_token/"
AUTHORIZER_TOKEN_ENDPOINT = "/api/tpapp/v2/auth/get_auth_token/"
#: The fields of token requests that hold secrets.
_SECRET_KEYS = frozenset({"client_secret", "authorizer_refresh_token", "authorization_code",
                          "access-token"})


@attrs.frozen
class Transport:
    """How a provider reaches the token endpoints: through the package's one
    [`Transport`][douyin_async.http.transport.Transport] seam.

    `session`: an `aiohttp.ClientSession` to use (never closed by the provider); without one,
    each token request opens and closes its own (tokens are requested rarely). `http`: any
    transport instead (a [`FakeTransport`][douyin_async.http.fake.FakeTransport] in tests).
    `timeout`: seconds per token request. `ssl`: passed to aiohttp.
    """

    base_url: str
    session: aiohttp.ClientSession | None = None
    timeout: float = 30.0
    ssl: Any = True
    http: HttpTransport | None = None

    async def request(
        self,
        method: str,
        endpoint: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes, str]:
        """Send one request; answer `(status, body, X-Tt-Logid header)`. The secrets it
        carries are registered first, so no error built from the answer can show them."""
        for part in (json, params, headers):
            for key in _SECRET_KEYS & (part or {}).keys():
                register_secret((part or {})[key])
        request = Request(
            method, self.base_url + endpoint,
            headers={"content-type": "application/json", **(headers or {})},
            body=orjson.dumps(json) if json is not None else None,
            params=params, timeout=self.timeout)
        if self.http is not None:
            answer = await self.http.send(request)
        else:
            transport = AiohttpTransport(self.session, ssl=self.ssl)
            try:
                answer = await transport.send(request)
            finally:
                await transport.aclose()
        return answer.status, answer.body, answer.headers.get("X-Tt-Logid", "")


def _shape_error(message: str, *, http_status: int, endpoint: str) -> ResponseDecodeError:
    return ResponseDecodeError(message, http_status=http_status, snippet=HIDDEN_BODY,
                               endpoint=endpoint)


def decode_client_token(
    body: bytes, *, http_status: int, endpoint: str, now: float, header_log_id: str = ""
) -> Token:
    """Decode a client-token answer into a [`Token`][douyin_async.auth.Token], or raise the
    matching error (10002 `InvalidRequestError`, 10003 / 10013 `AuthenticationError`,
    10020 `QuotaExceededError`, others `ApiError`). No error quotes the body."""
    envelope = open_envelope(body, http_status=http_status, endpoint=endpoint,
                             header_log_id=header_log_id, quote_body=False)
    if not envelope.has_data:
        raise _shape_error("answer has no data object", http_status=http_status,
                           endpoint=endpoint)
    return _token(envelope.data, "access_token", http_status=http_status, endpoint=endpoint,
                  now=now)


def _token(data: Mapping[str, Any], key: str, *, http_status: int, endpoint: str,
           now: float) -> Token:
    value = data.get(key)
    expires_in = as_count(data.get("expires_in"))
    if isinstance(data.get("expires_in"), str) and data["expires_in"].isdigit():
        expires_in = int(data["expires_in"])
    if not isinstance(value, str) or not value:
        raise _shape_error(f"answer has no {key}", http_status=http_status, endpoint=endpoint)
    if expires_in is None:
        raise _shape_error("answer has no expires_in", http_status=http_status,
                           endpoint=endpoint)
    return Token(value, now + expires_in)


@attrs.frozen
class AuthorizerGrant:
    """A decoded authorizer-token answer: the access token and the new refresh token."""

    token: Token
    refresh_token: str = attrs.field(repr=False)


def decode_authorizer_token(
    body: bytes, *, http_status: int, endpoint: str, now: float, header_log_id: str = ""
) -> AuthorizerGrant:
    """Decode a ``get_auth_token`` answer, or raise the matching error."""
    envelope = open_envelope(body, http_status=http_status, endpoint=endpoint,
                             header_log_id=header_log_id, quote_body=False)
    data = envelope.data
    token = _token(data, "authorizer_access_token", http_status=http_status,
                   endpoint=endpoint, now=now)
    refresh = data.get("authorizer_refresh_token")
    register_secret(refresh)
    if not isinstance(refresh, str) or not refresh:
        raise _shape_error("answer has no authorizer_refresh_token", http_status=http_status,
                           endpoint=endpoint)
    return AuthorizerGrant(token, refresh)
