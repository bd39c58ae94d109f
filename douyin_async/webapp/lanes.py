"""Priority lanes and the admission decisions, as pure functions (values in, values out).

Two lanes, ``"interactive"`` (views, the default) and ``"background"`` (``pull()``), share
the request slots by weighted round-robin ([`LanePolicy`][douyin_async.webapp.lanes.LanePolicy],
[`LaneTurns`][douyin_async.webapp.lanes.LaneTurns]).
[`grants_before`][douyin_async.webapp.lanes.grants_before]
counts a new waiter's place, [`queue_budget`][douyin_async.webapp.lanes.queue_budget] how long it
may wait, [`retry_after`][douyin_async.webapp.lanes.retry_after] when a refused call would fit.
The queue that applies them is [`AdmissionQueue`][douyin_async.webapp.admission.AdmissionQueue].
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ..errors import InvalidParameterError

Priority = Literal["interactive", "background"]
INTERACTIVE: Priority = "interactive"
BACKGROUND: Priority = "background"
PRIORITIES: tuple[Priority, ...] = (INTERACTIVE, BACKGROUND)


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen
class LanePolicy:
    """How the two lanes share the gate while both have waiters.

    ``interactive_burst`` interactive grants, then ``background_burst`` background grants,
    and so on. A view therefore waits behind at most ``background_burst`` background
    requests between two interactive grants, and background work keeps
    [`background_share`][douyin_async.webapp.lanes.LanePolicy.background_share] of the slots
    however many views arrive. The defaults (4 and 1) give views 80% and a pull 20% of a
    contended cap, all of it when the other lane is empty.
    """

    interactive_burst: int = attrs.field(default=4, validator=_positive_int)
    background_burst: int = attrs.field(default=1, validator=_positive_int)

    @property
    def background_share(self) -> float:
        """The least share of the slots background work gets while views queue."""
        return self.background_burst / (self.interactive_burst + self.background_burst)

    def burst(self, lane: Priority) -> int:
        """Grants in a row for ``lane`` while the other lane waits."""
        return self.interactive_burst if lane == INTERACTIVE else self.background_burst


class LaneTurns:
    """Whose turn the next grant is (weighted round-robin; pure)."""

    def __init__(self, policy: LanePolicy, lane: Priority = INTERACTIVE, run: int = 0) -> None:
        self.policy = policy
        self.lane: Priority = lane
        self.run = run

    def copy(self) -> LaneTurns:
        """An independent copy, for what-if counting."""
        return LaneTurns(self.policy, self.lane, self.run)

    def next(self, interactive_waiting: bool, background_waiting: bool) -> Priority | None:
        """The lane of the next grant given which lanes have waiters (None: nobody waits)."""
        if interactive_waiting and background_waiting:
            chosen = self.lane
            if self.run >= self.policy.burst(self.lane):
                chosen = BACKGROUND if self.lane == INTERACTIVE else INTERACTIVE
        elif interactive_waiting:
            chosen = INTERACTIVE
        elif background_waiting:
            chosen = BACKGROUND
        else:
            return None
        if chosen == self.lane:
            self.run += 1
        else:
            self.lane, self.run = chosen, 1
        return chosen


def grants_before(turns: LaneTurns, lane: Priority, same_ahead: int, other: int) -> int:
    """Grants before a new waiter of ``lane`` whose lane holds ``same_ahead`` waiters and the
    other lane ``other``, counting only the waiters queued now (pure)."""
    if not same_ahead and not other:
        return 0  # a lane alone gets every slot
    sim = turns.copy()
    same, count = same_ahead, 0
    while True:
        interactive, background = (same + 1, other) if lane == INTERACTIVE else (other, same + 1)
        chosen = sim.next(interactive > 0, background > 0)
        if chosen == lane:
            if same == 0:
                return count
            same -= 1
        else:
            other -= 1
        count += 1


def queue_budget(
    now: float,
    *,
    deadline_at: float | None = None,
    service: float = 0.0,
    max_queue_wait: float | None = None,
) -> float | None:
    """Seconds a call may wait for its slot (None: no limit; pure).

    With a deadline the slot must come early enough for the request itself (``service``:
    the recent request latency) to end by ``deadline_at``; ``max_queue_wait`` caps the wait
    on its own. Both given: the smaller.
    """
    budgets = []
    if deadline_at is not None:
        budgets.append(deadline_at - now - service)
    if max_queue_wait is not None:
        budgets.append(max_queue_wait)
    return min(budgets) if budgets else None


def retry_after(wait: float, budget: float, spacing: float) -> float:
    """When a refused call would fit, were nobody else to arrive (at least one spacing)."""
    return round(max(spacing, wait - budget), 3)


__all__ = [
    "BACKGROUND",
    "INTERACTIVE",
    "PRIORITIES",
    "LanePolicy",
    "LaneTurns",
    "Priority",
    "grants_before",
    "queue_budget",
    "retry_after",
]
