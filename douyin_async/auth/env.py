"""Choosing a provider from environment variables (used by the command line)."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidParameterError
from .base import StaticToken, TokenProvider
from .providers import ClientCredentials
from .shared import FileTokenStore, SharedToken

ACCESS_TOKEN_VAR = "DOUYIN_ACCESS_TOKEN"
CLIENT_KEY_VAR = "DOUYIN_CLIENT_KEY"
CLIENT_SECRET_VAR = "DOUYIN_CLIENT_SECRET"
TOKEN_FILE_VAR = "DOUYIN_TOKEN_FILE"


def provider_from_env(env: Mapping[str, str], base_url: str) -> TokenProvider | None:
    """The token provider the environment describes, or None: `DOUYIN_ACCESS_TOKEN` (a
    [`StaticToken`][douyin_async.auth.StaticToken], first), else `DOUYIN_CLIENT_KEY` and
    `DOUYIN_CLIENT_SECRET` ([`ClientCredentials`][douyin_async.auth.ClientCredentials]),
    shared through `DOUYIN_TOKEN_FILE` when set
    ([`SharedToken`][douyin_async.auth.SharedToken] over a
    [`FileTokenStore`][douyin_async.auth.FileTokenStore]). Only one of key and secret:
    [`InvalidParameterError`][douyin_async.errors.InvalidParameterError].
    """
    token = env.get(ACCESS_TOKEN_VAR, "").strip()
    if token:
        return StaticToken(token)
    key = env.get(CLIENT_KEY_VAR, "").strip()
    secret = env.get(CLIENT_SECRET_VAR, "").strip()
    if not key and not secret:
        return None
    if not key or not secret:
        missing = CLIENT_SECRET_VAR if key else CLIENT_KEY_VAR
        raise InvalidParameterError(
            f"{missing} is not set ({CLIENT_KEY_VAR} and {CLIENT_SECRET_VAR} go together)")
    credentials = ClientCredentials(key, secret, base_url=base_url)
    path = env.get(TOKEN_FILE_VAR, "").strip()
    if path:
        return SharedToken(FileTokenStore(path), credentials)
    return credentials


def client_key_of(access: object) -> str | None:
    """The client key tokens are asked with: of client credentials, or of those a
    [`SharedToken`][douyin_async.auth.SharedToken] wraps; None for any other access."""
    source = access.inner if isinstance(access, SharedToken) else access
    if isinstance(source, ClientCredentials):
        return source.client_key
    return None
