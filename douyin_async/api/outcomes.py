"""What one attempt of a request comes to, and the small rules on a call's attempts. Pure.

Each attempt ends in exactly one [`Outcome`][douyin_async.api.outcomes.Outcome]: answered,
skipped, its slot given up for an expired token, or, after an error, a token renewal, a retry
after a delay, or giving up. The executor's loop does what the outcome says.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from ..auth import TokenProvider
from ..errors import ApiError, AuthenticationError, DouyinError
from ..http.codes import TOKEN_EXPIRED_CODES
from ..http.transport import Response

T = TypeVar("T")


def renews(error: DouyinError) -> bool:
    """The server called the token expired or invalid (or answered HTTP 401)."""
    if not isinstance(error, ApiError):
        return False
    return error.code in TOKEN_EXPIRED_CODES or (
        isinstance(error, AuthenticationError) and error.http_status == 401)


#: Slots one call may give up for a token that expired while it waited; then it sends.
MAX_SLOTS_GIVEN_UP = 3


@attrs.frozen
class Sent:
    """The request went out with `token` and was answered."""

    token: str
    response: Response


@attrs.frozen
class Answered(Generic[T]):
    """The answer read: the value and the response it came from."""

    value: T
    response: Response


@attrs.frozen
class Skipped:
    """Not sent: the caller no longer needed it when its slot came."""


@attrs.frozen
class SlotGivenUp:
    """Not sent: the token expired during the wait for the slot (get one, then a slot)."""


@attrs.frozen
class Renew:
    """The server refused `token`: invalidate it and send again."""

    token: str


@attrs.frozen
class Retry:
    """The retry policy asks for another attempt after `delay` seconds."""

    delay: float


@attrs.frozen
class GiveUp:
    """No attempt is left: `error` is the call's answer."""

    error: DouyinError


#: What one attempt comes to.
Outcome = Answered[T] | Skipped | SlotGivenUp | Renew | Retry | GiveUp


@attrs.define
class Attempts:
    """What one call has spent so far, and the small rules on it."""

    #: Attempts that failed (a renewal included).
    failed: int = 0
    renewed: bool = False
    slots_given_up: int = 0

    def may_give_up_slot(self) -> bool:
        """A slot may be given up for an expired token, a few times; then the request is sent
        with the token in hand."""
        return self.slots_given_up < MAX_SLOTS_GIVEN_UP

    def may_renew(self, error: DouyinError, token: str, tokens: TokenProvider) -> bool:
        """Renew once per call, when the server refused a token a provider can replace."""
        return renews(error) and bool(token) and not self.renewed and tokens.renewable

    def retries(self) -> int:
        """Failed attempts the retry policy counts: a renewal is not one of its retries."""
        return self.failed - self.renewed


__all__ = [
    "MAX_SLOTS_GIVEN_UP",
    "Answered",
    "Attempts",
    "GiveUp",
    "Outcome",
    "Renew",
    "Retry",
    "Sent",
    "Skipped",
    "SlotGivenUp",
    "renews",
]
