"""The send turn of a Redis-shared quota: the departures of one app's requests, whichever
process sent them, are paced as its slots are, counted from when each request really left.

A slot booked in Redis says when a request may leave at the earliest, not when it did: the
event loop busy decoding a page, or a connection being opened, can hold it back until it
leaves together with the next process's request, and the server counts one too many in a
rolling second. So after its slot a request also takes the app's *turn* (one holder at a
time, kept in Redis beside the schedule) and hands it on once its body was written. Each
departure makes the next one due a spacing later (or a spacing after the schedule of
departures, if that is later: no credit for a quiet while, no burst after a late request),
and the turn is free only from `tolerance` seconds before that: any 11 departures span at
least 10 spacings less the tolerance (1.035 s at 10 per second), whatever held a request
back. The tolerance absorbs the time from a slot to its departure, so that requests on time
wait for nothing. Both moments are each process's reading of the shared clock (its
measured offset to Redis), the turn's taken before its request leaves and
the departure's after it did, so a step of Redis's clock moves neither. A holder that never
reports (its process died) counts as a departure `max_hold` seconds after it took the turn.

A booked slot that goes unused (its caller left, or its page turned out not to be needed)
is given back: the queue is one spacing shorter for the next booking. The turn keeps that
safe, as two bookings that now fall close together still leave a spacing apart.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import attrs

from .redis_booking import Booking
from .redis_scripts import now_arg, us

#: Runs a script on the limiter's key: ``run(script, *args)``.
Run = Callable[..., Awaitable[Any]]


class Departure:
    """A held turn: call it when the request has left; `unused()` when no request left."""

    def __init__(self, turns: Turns, ticket: str) -> None:
        self._turns = turns
        self._ticket = ticket
        self._done = False

    def __call__(self) -> None:
        """The request left now: the turn is handed on, with this moment as its `sent`."""
        if not self._done:
            self._done = True
            self._turns.report(self._ticket, sent=True, give_back=False)

    def unused(self) -> None:
        """No request left: the turn and the slot are given back."""
        if not self._done:
            self._done = True
            self._turns.report(self._ticket, sent=False, give_back=True)


@attrs.define(eq=False)
class Turns:
    """One limiter's side of its key's send turn; reports go out in background tasks that
    `settle` waits for (and raises the failure of)."""

    run: Run
    booking: Booking
    spacing: float = attrs.field(kw_only=True)
    #: Seconds a departure may come before it is due (the way from slot to socket).
    tolerance: float = attrs.field(kw_only=True)
    max_hold: float = attrs.field(kw_only=True)
    _sleep: Callable[[float], Awaitable[None]] = attrs.field(kw_only=True)
    _background: Callable[[Awaitable[None], str], None] = attrs.field(kw_only=True)
    _tickets: Iterator[str] = attrs.field(init=False, factory=lambda: (
        f"{uuid.uuid4().hex[:12]}-{n}" for n in itertools.count()))
    #: Times a request found the turn not yet free after its slot (it was held, or the
    #: last request left late).
    waits: int = attrs.field(default=0, init=False)

    async def take(self) -> Departure:
        """Wait for the turn (the caller's slot has fallen due)."""
        ticket = next(self._tickets)
        try:
            while True:
                reply = await self.run(self.booking.scripts.turn, ticket,
                                       now_arg(self.booking.reading()), us(self.spacing),
                                       us(self.max_hold), us(self.tolerance))
                if int(reply[0]) == 1:
                    return Departure(self, ticket)
                self.waits += 1
                await self._sleep(int(reply[1]) / 1_000_000)
        except BaseException:
            self.report(ticket, sent=False, give_back=True)  # it may hold the turn already
            raise

    def give_back(self) -> None:
        """A slot booked but not used (its caller left before its turn)."""
        self.report("", sent=False, give_back=True)

    def report(self, ticket: str, *, sent: bool, give_back: bool) -> None:
        """Hand the turn on (``sent``: the request left now) and give the slot back if
        asked, in the background; the moment is read here, not when the report runs."""
        args = (ticket, "1" if sent else "", us(self.spacing), now_arg(self.booking.reading()),
                "1" if give_back else "")
        self._background(self.run(self.booking.scripts.release, *args), "handing on the turn")


__all__ = ["Departure", "Turns"]
