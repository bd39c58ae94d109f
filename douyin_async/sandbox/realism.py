"""The realistic profile's task-video records, and every record in the client's terms.

Real answers are not as tidy as the API page. With ``SandboxConfig(realism="realistic")`` the
task-video records follow the official SDK's model (``omitempty`` on ten optional fields):

- Key style by publish day: the unix day ``publish_time // 86400`` is, from a hash of the seed
  and the day, all PascalCase, all snake_case, or mixed (each record's style from its own
  hash). A page inside one day is therefore pure PascalCase, pure snake_case or mixed; a page
  across days mixes styles.
- An optional counter (``OPTIONAL_COUNTERS``) whose value is 0 is left out, or in one case in
  four (by the record's hash) sent as ``null``. Non-zero counters are always sent.
- ``client_name`` and ``date`` are each left out in 1 record of 16 and ``null`` in another
  1 of 16 (independently, by the record's hash).
- Every record carries one key the client does not know: ``TalentProfit1d`` (PascalCase
  records) or ``talent_profit_1d`` (snake_case records), worth ``expected_profit * 3 // 10``.
- Required fields are always present with their tidy values; keys keep the page's order.

In the client's terms (`expected_fields`): every field by its snake_case name; a missing
or null counter is 0, a missing or null ``client_name`` / ``date`` is None; ``publish_time`` is
an aware UTC datetime, ``date`` a ``datetime.date``; ``extra`` maps unknown keys, spelled as
sent, to their values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .hashing import Hasher
from .names import EXTRA_VIDEO_KEY, PASCAL_KEYS, SNAKE_KEYS

#: The optional counters of the official model, by snake_case name.
OPTIONAL_COUNTERS = ("active_cnt_1d", "ad_share_cost_1d", "billing_gmv_1d",
                     "billing_refund_gmv_1d", "feed_ad_share_cost_1d", "expected_profit",
                     "gmv_1d", "refund_gmv_1d")
#: The optional text fields: missing or null means None.
OPTIONAL_TEXT = ("client_name", "date")

_COUNTER_AT = tuple(SNAKE_KEYS.index(name) for name in OPTIONAL_COUNTERS)
_CLIENT_NAME = SNAKE_KEYS.index("client_name")
_DATE = SNAKE_KEYS.index("date")
_PUBLISH = SNAKE_KEYS.index("publish_time")
_PROFIT = SNAKE_KEYS.index("expected_profit")

PASCAL, SNAKE, MIXED = 0, 1, 2
_MISSING = object()


def expected_fields(values: tuple[Any, ...], extra: dict[str, Any]) -> dict[str, Any]:
    """A record's fields in the client's terms, from its values (``SNAKE_KEYS`` order).

    ``values`` may hold None for a missing optional field; counters then read 0.
    """
    out: dict[str, Any] = {}
    for i, (name, value) in enumerate(zip(SNAKE_KEYS, values, strict=True)):
        if i == _PUBLISH:
            value = dt.datetime.fromtimestamp(value, dt.UTC)
        elif i == _DATE:
            value = None if value is None else dt.date.fromisoformat(value)
        elif value is None and i != _CLIENT_NAME:
            value = 0
        out[name] = value
    out["extra"] = extra
    return out


class RealisticVideos:
    """Renders tidy task-video values the way the realistic profile sends them."""

    def __init__(self, seed: int) -> None:
        self._hash = Hasher(seed, "realism")
        self._days: dict[int, int] = {}

    def day_mode(self, day: int) -> int:
        """``PASCAL``, ``SNAKE`` or ``MIXED`` for one unix day."""
        mode = self._days.get(day)
        if mode is None:
            if len(self._days) > 100_000:
                self._days.clear()
            mode = self._days[day] = self._hash.pair(0, day, 0) % 3
        return mode

    def _draw(self, values: tuple[Any, ...], publish: int, billing_date: dt.date
              ) -> tuple[bool, list[Any]]:
        """``(snake, values)``: the record's style and its values with ``_MISSING`` / None."""
        bits = self._hash.pair(1, values[SNAKE_KEYS.index("video_id")], billing_date.toordinal())
        mode = self.day_mode(publish // 86_400)
        snake = mode == SNAKE or (mode == MIXED and bits >> 63 & 1 == 1)
        out = list(values)
        for k, i in enumerate(_COUNTER_AT):
            if out[i] == 0:
                out[i] = None if (bits >> (2 * k)) & 3 == 0 else _MISSING
        for i, shift in ((_CLIENT_NAME, 40), (_DATE, 44)):
            which = (bits >> shift) & 15
            if which < 2:
                out[i] = _MISSING if which == 0 else None
        return snake, out

    def render(self, values: tuple[Any, ...], publish: int, billing_date: dt.date
               ) -> dict[str, Any]:
        """The wire form of one record."""
        snake, drawn = self._draw(values, publish, billing_date)
        keys = SNAKE_KEYS if snake else PASCAL_KEYS
        out = {key: value for key, value in zip(keys, drawn, strict=True)
               if value is not _MISSING}
        out[EXTRA_VIDEO_KEY["snake" if snake else "pascal"]] = values[_PROFIT] * 3 // 10
        return out

    def expected(self, values: tuple[Any, ...], publish: int, billing_date: dt.date
                 ) -> dict[str, Any]:
        """The same record in the client's terms."""
        snake, drawn = self._draw(values, publish, billing_date)
        plain = tuple(None if v is _MISSING else v for v in drawn)
        extra = {EXTRA_VIDEO_KEY["snake" if snake else "pascal"]: values[_PROFIT] * 3 // 10}
        return expected_fields(plain, extra)
