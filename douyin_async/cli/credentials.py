"""Where the access token comes from; tokens and secrets are never printed.

In order: ``--access-token-file``, then the environment as read by
[`provider_from_env`][douyin_async.auth.provider_from_env] (``$DOUYIN_ACCESS_TOKEN``, or client
credentials from ``$DOUYIN_CLIENT_KEY`` and ``$DOUYIN_CLIENT_SECRET``). With ``--apps``, each
app's own credentials from the apps file.
"""

from __future__ import annotations

import hashlib
import os

import aiohttp

from ..auth import ClientCredentials, TokenProvider, client_key_of, provider_from_env
from ..errors import InvalidParameterError
from .apps import AppSpec
from .exits import FILES, USAGE, CliError, read_text


def read_token_file(path: str) -> str:
    """The token in a file (surrounding whitespace removed)."""
    token = read_text(path, lambda reason: CliError(
        f"cannot read --access-token-file {path!r}: {reason}", FILES)).strip()
    if not token:
        raise CliError(f"--access-token-file {path!r} is empty", USAGE)
    return token


def token_source(token_file: str | None, base_url: str) -> str | TokenProvider:
    """The token, or a token provider, for a pull against ``base_url``."""
    if token_file is not None:
        return read_token_file(token_file)
    try:
        provider = provider_from_env(os.environ, base_url)
    except InvalidParameterError as exc:
        raise CliError(str(exc), USAGE) from None
    if provider is None:
        raise CliError("no credentials: set DOUYIN_ACCESS_TOKEN (or use --access-token-file), "
                       "or DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET", USAGE)
    return provider


def app_token_source(app: AppSpec, base_url: str,
                     session: aiohttp.ClientSession | None = None) -> str | TokenProvider:
    """The token, or a renewing provider, of one app of an ``--apps`` file."""
    if app.access_token is not None:
        return app.access_token
    assert app.client_key is not None and app.client_secret is not None
    return ClientCredentials(app.client_key, app.client_secret, base_url=base_url,
                             session=session)


def _token_quota(token: str) -> str:
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def held_quota_name(access: str | TokenProvider) -> str | None:
    """The name of a single app's shared quota as far as known without asking for a token:
    its client key, or a digest of the token held (never the token itself); None when the
    provider holds none yet."""
    key = client_key_of(access)
    if key:
        return key
    token = access if isinstance(access, str) else access.current()
    return _token_quota(token) if token else None


async def quota_name(access: str | TokenProvider) -> str:
    """The name of a single app's shared quota (``--redis-url`` without ``--apps``): see
    [`held_quota_name`][douyin_async.cli.credentials.held_quota_name]; a provider that holds
    no token yet is asked for one."""
    held = held_quota_name(access)
    if held is not None:
        return held
    assert not isinstance(access, str)
    return _token_quota(await access.get())
