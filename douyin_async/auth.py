"""Access-token providers.

The client asks its provider for a token before every request and tells it when the server
called a token invalid or expired, so a renewing provider can fetch a new one. Tokens are
secrets: no provider shows them in its ``repr``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .errors import InvalidParameterError


@runtime_checkable
class TokenProvider(Protocol):
    """Supplies access tokens to a client."""

    async def get(self) -> str:
        """A currently valid access token."""

    async def invalidate(self, token: str) -> None:
        """The server refused ``token`` as invalid or expired; do not hand it out again."""


class StaticToken:
    """A fixed token (e.g. pasted from the console). It cannot be renewed."""

    renewable = False

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise InvalidParameterError("access_token must be a non-empty string")
        self._token = token

    async def get(self) -> str:
        """The token."""
        return self._token

    async def invalidate(self, token: str) -> None:
        """Nothing to do: a fixed token cannot be renewed."""

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"
