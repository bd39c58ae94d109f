"""Access-token providers.

The client asks its provider for a token before every request and tells it when the server
called a token invalid or expired, so a renewing provider can fetch a new one. Tokens and
secrets never appear in a ``repr``, an exception message or a log line.

- [`StaticToken`][douyin_async.auth.StaticToken]: a fixed token.
- [`ClientCredentials`][douyin_async.auth.ClientCredentials]: an app's client token, renewed ahead
  of expiry.
- [`AuthorizerTokens`][douyin_async.auth.AuthorizerTokens]: a service provider's token for an
  authorising app, with the rotating refresh token handed to a hook for saving.
- [`SharedToken`][douyin_async.auth.SharedToken]: one token for many clients or processes, kept in a
  [`TokenStore`][douyin_async.auth.TokenStore]
  ([`FileTokenStore`][douyin_async.auth.FileTokenStore],
  [`MemoryTokenStore`][douyin_async.auth.MemoryTokenStore], or your own).
"""

from .base import (
    DEFAULT_MARGIN,
    MIN_RENEWAL_INTERVAL,
    RenewalRetry,
    RenewingProvider,
    StaticToken,
    Token,
    TokenProvider,
    TokenSource,
    renew_at,
    token_after_slot,
)
from .endpoints import (
    AUTHORIZER_TOKEN_ENDPOINT,
    CLIENT_TOKEN_ENDPOINT,
    STABLE_CLIENT_TOKEN_ENDPOINT,
)
from .env import client_key_of, provider_from_env
from .providers import AuthorizerTokens, ClientCredentials
from .shared import (
    FileTokenStore,
    LockingTokenStore,
    MemoryTokenStore,
    SharedToken,
    TokenStore,
)

__all__ = [
    "AUTHORIZER_TOKEN_ENDPOINT",
    "CLIENT_TOKEN_ENDPOINT",
    "DEFAULT_MARGIN",
    "MIN_RENEWAL_INTERVAL",
    "STABLE_CLIENT_TOKEN_ENDPOINT",
    "AuthorizerTokens",
    "ClientCredentials",
    "FileTokenStore",
    "LockingTokenStore",
    "MemoryTokenStore",
    "RenewalRetry",
    "RenewingProvider",
    "SharedToken",
    "StaticToken",
    "Token",
    "TokenProvider",
    "TokenSource",
    "TokenStore",
    "client_key_of",
    "provider_from_env",
    "renew_at",
    "token_after_slot",
]
