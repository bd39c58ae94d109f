"""The token endpoints: one request each, and pure decoders of their answers.

Client token (``POST /oauth/client_token/`` and ``/oauth/stable_client_token/``)::

    {"data": {"access_token", "expires_in", "error_code", "description"}, "message"}

Authorizer token (``GET /api/tpapp/v2/auth/get_auth_token/``), the ``err_no`` envelope::

    {"err_no", "err_msg", "log_id",
     "data": {"authorizer_access_token", "expires_in", "authorizer_refresh_token", ...}}

Answers of these endpoints hold secrets, so no error built here quotes a body: errors carry
the code, the server's message, the endpoint path and the log id only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
import orjson

from ..envelopes import HIDDEN_BODY, as_int, err_no_data, http_status_error, parse_json, shape_error
from ..errors import (
    ResponseDecodeError,
    TransportError,
    error_for_code,
)
from .base import Token

CLIENT_TOKEN_ENDPOINT = "/oauth/client_token/"
STABLE_CLIENT_TOKEN_ENDPOINT = "/oauth/stable_client_token/"
AUTHORIZER_TOKEN_ENDPOINT = "/api/tpapp/v2/auth/get_auth_token/"



@attrs.frozen
class Transport:
    """How a provider reaches the token endpoints.

    ``session``: an ``aiohttp.ClientSession`` to use (never closed by the provider); without
    one, each token request opens and closes its own (tokens are requested rarely).
    ``timeout``: seconds per token request. ``ssl``: passed to aiohttp.
    """

    base_url: str
    session: aiohttp.ClientSession | None = None
    timeout: float = 30.0
    ssl: Any = True

    async def request(
        self,
        method: str,
        endpoint: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes, str]:
        """Send one request; answer ``(status, body, X-Tt-Logid header)``."""
        if self.session is not None:
            return await self._send(self.session, method, endpoint, json, params, headers)
        async with aiohttp.ClientSession() as session:
            return await self._send(session, method, endpoint, json, params, headers)

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        endpoint: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[int, bytes, str]:
        all_headers = {"content-type": "application/json", **(headers or {})}
        data = orjson.dumps(json) if json is not None else None
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with session.request(
                method, self.base_url + endpoint, data=data, params=params,
                headers=all_headers, timeout=timeout, ssl=self.ssl,
            ) as response:
                body = await response.read()
                return response.status, body, response.headers.get("X-Tt-Logid", "")
        except TimeoutError:
            raise TransportError(f"no answer within {self.timeout:g} s",
                                 endpoint=endpoint) from None
        except aiohttp.ClientPayloadError as exc:
            raise ResponseDecodeError(f"answer cut short ({type(exc).__name__})",
                                      http_status=0, snippet=HIDDEN_BODY, endpoint=endpoint,
                                      retryable=True) from None
        except aiohttp.ClientError as exc:
            # Only connector errors are quoted (host and port); other texts may hold the URL,
            # whose query carries a refresh token on the authorizer endpoint.
            text = str(exc) if isinstance(exc, aiohttp.ClientConnectorError) else ""
            raise TransportError(f"{type(exc).__name__}{': ' if text else ''}{text}",
                                 endpoint=endpoint) from None


def _parse(body: bytes, *, http_status: int, endpoint: str, log_id: str) -> dict[str, Any]:
    return parse_json(body, http_status=http_status, endpoint=endpoint, header_log_id=log_id,
                      quote_body=False)


def _shape_error(message: str, *, http_status: int, endpoint: str) -> ResponseDecodeError:
    return shape_error(message, None, http_status=http_status, endpoint=endpoint,
                       quote_body=False)


def decode_client_token(
    body: bytes, *, http_status: int, endpoint: str, now: float, header_log_id: str = ""
) -> Token:
    """Decode a client-token answer into a :class:`Token`, or raise the matching error
    (10002 :class:`InvalidRequestError`, 10003 / 10013 :class:`AuthenticationError`,
    10020 :class:`QuotaExceededError`, others :class:`ApiError`)."""
    obj = _parse(body, http_status=http_status, endpoint=endpoint, log_id=header_log_id)
    extra = obj.get("extra")
    extra = extra if isinstance(extra, dict) else {}
    log_id = str(extra.get("logid") or obj.get("log_id") or header_log_id)
    data = obj.get("data")
    if not isinstance(data, dict):
        error = http_status_error(http_status, endpoint, log_id)
        if error is not None:
            raise error
        raise _shape_error("answer has no data object", http_status=http_status,
                           endpoint=endpoint)
    code = as_int(data.get("error_code"))
    if code != 0:
        message = str(data.get("description") or obj.get("message") or "")
        raise error_for_code(code, message, log_id=log_id, endpoint=endpoint,
                             http_status=http_status)
    error = http_status_error(http_status, endpoint, log_id)
    if error is not None:
        raise error
    return _token(data, "access_token", http_status=http_status, endpoint=endpoint, now=now)


def _token(data: dict[str, Any], key: str, *, http_status: int, endpoint: str,
           now: float) -> Token:
    value = data.get(key)
    expires_in = as_int(data.get("expires_in"), default=-1)
    if not isinstance(value, str) or not value:
        raise _shape_error(f"answer has no {key}", http_status=http_status, endpoint=endpoint)
    if expires_in < 0:
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
    obj = _parse(body, http_status=http_status, endpoint=endpoint, log_id=header_log_id)
    data, _ = err_no_data(obj, http_status=http_status, endpoint=endpoint,
                          header_log_id=header_log_id, quote_body=False)
    token = _token(data, "authorizer_access_token", http_status=http_status,
                   endpoint=endpoint, now=now)
    refresh = data.get("authorizer_refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise _shape_error("answer has no authorizer_refresh_token", http_status=http_status,
                           endpoint=endpoint)
    return AuthorizerGrant(token, refresh)
