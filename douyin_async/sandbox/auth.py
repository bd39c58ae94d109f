"""Tokens: issuing them on the token endpoints and judging them on the data endpoints.

Rules:

- Static tokens (``config.static_tokens`` and ``config.incapable_tokens``) never expire.
- ``/oauth/client_token/`` issues a new token per call. The previous token of the same client
  stays valid for ``token_grace`` seconds after that; older ones stop working at once (only the
  newest two are ever valid). Every token expires ``token_lifetime`` seconds after issue.
- ``/oauth/stable_client_token/`` returns the client's newest token while it is unexpired and
  issues one (as above) otherwise. Both endpoints share one token history per client.
- Past 500 calls (``token_call_limit``) per client key within 300 s (``token_call_window``) the
  token endpoints answer 10020. Every call with a known client key counts.
- ``get_auth_token`` trades a (single-use) authorization code or an authorizer refresh token
  for an authorizer access token and a NEW refresh token; the refresh token used stops working.
  Unknown, used or expired codes and refresh tokens are answered 28001007.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .config import RegisteredClient, SandboxConfig
from .hashing import Hasher

TOKEN_OK = 0
BAD_PARAMS = 10002
UNKNOWN_CLIENT = 10003
WRONG_SECRET = 10013
TOO_MANY_CALLS = 10020

TOKEN_ERRORS = {
    BAD_PARAMS: "参数错误",
    UNKNOWN_CLIENT: "client_key不存在",
    WRONG_SECRET: "client_key或client_secret错误",
    TOO_MANY_CALLS: "调用次数超过限制,5分钟内最多调用500次",
}

GRANT_CODE = "app_to_tp_authorization_code"
GRANT_REFRESH = "app_to_tp_refresh_token"


class TokenState(enum.Enum):
    """What the data endpoints make of an access token."""

    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"


@attrs.define(eq=False)
class _Issued:
    token: str
    client_key: str
    issued_at: float
    expires_at: float
    capable: bool


@attrs.frozen
class TokenAnswer:
    """An answer of a token endpoint: error code (0: success), message and payload."""

    code: int
    message: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)


class TokenAuthority:
    """Holds every issued token and decides what each is worth."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._hash = Hasher(config.seed, "tokens")
        self._counter = 0
        self._clients: dict[str, RegisteredClient] = {c.client_key: c for c in config.clients}
        self._history: dict[str, list[_Issued]] = {}
        self._issued: dict[str, _Issued] = {}
        self._refresh: dict[str, float] = {}
        self._used_codes: set[str] = set()
        self._calls: dict[str, collections.deque[float]] = {}

    def _new_secret(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}.{self._hash.bits('token', self._counter):064x}"[: len(prefix) + 41]

    # -- judging -----------------------------------------------------------------------

    def check(self, token: str | None) -> tuple[TokenState, bool]:
        """``(state, capable)`` of a token presented to a data endpoint."""
        if not token:
            return TokenState.INVALID, True
        if token in self.config.incapable_tokens:
            return TokenState.VALID, False
        if self.config.is_static(token):
            return TokenState.VALID, True
        issued = self._issued.get(token)
        if issued is None:
            return TokenState.INVALID, True
        now = self.config.clock()
        history = self._history.get(issued.client_key)
        if history is not None and issued in history:
            newest = history[-1]
            if issued is not newest and now >= newest.issued_at + self.config.token_grace:
                return TokenState.INVALID, issued.capable
        if now >= issued.expires_at:
            return TokenState.EXPIRED, issued.capable
        return TokenState.VALID, issued.capable

    def is_agency(self, token: str | None) -> bool:
        """Whether a (valid) token may call the agency bill-link endpoint."""
        if not token or token in self.config.non_agency_tokens:
            return False
        if self.config.is_static(token) or token in self.config.incapable_tokens:
            return True
        issued = self._issued.get(token)
        client = self._clients.get(issued.client_key) if issued is not None else None
        return client is not None and client.agency

    # -- client tokens -----------------------------------------------------------------

    def client_token(self, body: Any, *, stable: bool) -> TokenAnswer:
        """Answer ``/oauth/client_token/`` (``stable=False``) or its stable variant."""
        if not isinstance(body, dict):
            return _token_error(BAD_PARAMS)
        key, secret = body.get("client_key"), body.get("client_secret")
        if (not isinstance(key, str) or not key or not isinstance(secret, str) or not secret
                or body.get("grant_type") != "client_credential"):
            return _token_error(BAD_PARAMS)
        client = self._clients.get(key)
        if client is None:
            return _token_error(UNKNOWN_CLIENT)
        if not self._count_call(key):
            return _token_error(TOO_MANY_CALLS)
        if secret != client.client_secret:
            return _token_error(WRONG_SECRET)
        now = self.config.clock()
        history = self._history.setdefault(key, [])
        if stable and history and now < history[-1].expires_at:
            current = history[-1]
        else:
            current = _Issued(self._new_secret("clt"), key, now,
                              now + self.config.token_lifetime, client.capable)
            history.append(current)
            self._issued[current.token] = current
            while len(history) > 2:
                self._issued.pop(history.pop(0).token, None)
        return TokenAnswer(TOKEN_OK, "", {
            "access_token": current.token,
            "expires_in": max(0, int(current.expires_at - now)),
        })

    def _count_call(self, key: str) -> bool:
        now = self.config.monotonic()
        calls = self._calls.setdefault(key, collections.deque())
        while calls and now - calls[0] >= self.config.token_call_window:
            calls.popleft()
        calls.append(now)
        return len(calls) <= self.config.token_call_limit

    # -- authorizer tokens -------------------------------------------------------------

    def auth_token(self, access_token: str | None, query: Mapping[str, str]) -> TokenAnswer:
        """Answer ``get_auth_token`` with an err_no code (0, 28001003/8 or 28001007)."""
        state, _ = self.check(access_token)
        if state is TokenState.INVALID:
            return TokenAnswer(28001003, "access_token无效")
        if state is TokenState.EXPIRED:
            return TokenAnswer(28001008, "access_token已过期")
        grant = query.get("grant_type", "")
        now = self.config.clock()
        if grant == GRANT_CODE:
            code = query.get("authorization_code", "")
            if not code:
                return TokenAnswer(28001007, "参数不合法: authorization_code 必填")
            if code in self._used_codes:
                return TokenAnswer(28001007, "参数不合法: authorization_code 已使用")
            self._used_codes.add(code)
        elif grant == GRANT_REFRESH:
            refresh = query.get("authorizer_refresh_token", "")
            expires_at = self._refresh.pop(refresh, None)
            if expires_at is None or now >= expires_at:
                return TokenAnswer(28001007, "参数不合法: authorizer_refresh_token 无效")
        else:
            return TokenAnswer(28001007, "参数不合法: grant_type")
        issued = _Issued(self._new_secret("act"), "", now, now + self.config.token_lifetime, True)
        self._issued[issued.token] = issued
        refresh_token = self._new_secret("rft")
        self._refresh[refresh_token] = now + self.config.refresh_token_lifetime
        return TokenAnswer(0, "success", {
            "authorizer_access_token": issued.token,
            "expires_in": self.config.token_lifetime,
            "authorizer_refresh_token": refresh_token,
            "refresh_expires_in": self.config.refresh_token_lifetime,
        })


def _token_error(code: int) -> TokenAnswer:
    return TokenAnswer(code, TOKEN_ERRORS[code])
