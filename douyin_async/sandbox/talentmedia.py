"""The virtual population behind the talent-media endpoint.

Each (plan_id, douyin_id) pair has, per scene, a total drawn from a hash: ``0 ..
media_per_scene`` live rooms (content_type 1) and as many short videos (content_type 2).
``content_type=3`` lists both scenes: the live rooms first, then the short videos. Record ``k``
of a scene is a hash of (plan, talent, scene, k), so any page is generated alone.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from .config import SandboxConfig
from .hashing import Hasher, split
from .names import EXTRA_MEDIA_KEY

#: The keys of a talent-media record the client knows.
MEDIA_FIELDS = ("content_open_id", "content_type", "gmv", "play_cnt", "talent_commission",
                "used_gmv")

#: content_type of a live room.
LIVE = 1
#: content_type of a short video.
VIDEO = 2
#: content_type asking for both scenes.
BOTH = 3
CONTENT_TYPES = frozenset({LIVE, VIDEO, BOTH})


class TalentMediaPopulation:
    """Lazily generated talent-media records."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._hash = Hasher(config.seed, "talent-media")

    def plan_allowed(self, plan_id: int) -> bool:
        """Whether the app may query this plan (otherwise 2100007 / 110003)."""
        cfg = self.config
        if plan_id in cfg.forbidden_plan_ids:
            return False
        return cfg.forbidden_plan_suffix is None or plan_id % 1000 != cfg.forbidden_plan_suffix

    def _scene_total(self, plan_id: int, douyin_id: str, scene: int) -> int:
        return int(self._hash.bits("total", plan_id, douyin_id, scene)
                   % (self.config.media_per_scene + 1))

    def _scenes(self, content_type: int) -> tuple[int, ...]:
        return (LIVE, VIDEO) if content_type == BOTH else (content_type,)

    def count(self, plan_id: int, douyin_id: str, content_type: int) -> int:
        """How many records the query lists."""
        return sum(self._scene_total(plan_id, douyin_id, s) for s in self._scenes(content_type))

    def records(
        self, plan_id: int, douyin_id: str, content_type: int,
        offset: int = 0, limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records in server order, from ``offset``, at most ``limit`` of them."""
        remaining = limit
        skip = offset
        for scene in self._scenes(content_type):
            total = self._scene_total(plan_id, douyin_id, scene)
            if skip >= total:
                skip -= total
                continue
            stop = total if remaining is None else min(total, skip + remaining)
            for k in range(skip, stop):
                yield self.record(plan_id, douyin_id, scene, k)
            if remaining is not None:
                remaining -= stop - skip
                if remaining <= 0:
                    return
            skip = 0

    def expected(self, record: dict[str, Any]) -> dict[str, Any]:
        """A wire record in the client's terms: known fields, and ``extra`` for the rest."""
        out = {name: record[name] for name in MEDIA_FIELDS}
        out["extra"] = {k: v for k, v in record.items() if k not in MEDIA_FIELDS}
        return out

    def record(self, plan_id: int, douyin_id: str, scene: int, index: int) -> dict[str, Any]:
        """The wire form of record ``index`` of one scene."""
        raw = self._hash.raw(48, "open-id", plan_id, douyin_id, scene, index)
        g1, g2, used_pct, rate, viewers = split(
            self._hash.bits("media", plan_id, douyin_id, scene, index), 12, 10, 7, 5, 20
        )
        gmv = g1 * g2
        out: dict[str, Any] = {
            "content_open_id": "@" + base64.b64encode(raw).decode(),
            "content_type": scene,
            "gmv": gmv,
            "play_cnt": viewers % 200_000 if scene == VIDEO else viewers % 20_000,
            "talent_commission": gmv * (rate + 1) // 100,
            "used_gmv": gmv * min(used_pct, 100) // 100,
        }
        if self.config.extra_fields or self.config.realistic:
            out[EXTRA_MEDIA_KEY] = rate + 1
        return out
