"""The bill files behind the bill-link endpoints: generated lazily, the same bytes on every run.

One file per ``(bill_date, agency, kind)``: a header line of Chinese column names (``HEADERS``),
then ``bill_rows`` (kind ``"video"``) or ``bill_live_rows`` (kind ``"live"``) rows, CRLF line
ends, no quoting (no value holds a comma, quote or line break). Row ``i`` is a hash of the seed,
the file and ``i``, so any row is generated alone: its ids, times, ids of app, task, agent and
author, status and serial come from that hash, and its 21 metric columns are one of 4,096
metric texts drawn once per file (which keeps a row to about 3 microseconds).

Every row of a file has the same byte length in its encoding: all values are ASCII except the
settlement status (three Chinese characters), and the last column, the bill serial number
``账单流水号`` (``BL`` and hex digits), is as long as it takes to fill the row to its fixed length.
A byte offset therefore maps to a row by arithmetic, and a Range request at any offset is
answered without generating what comes before it, in constant memory whatever the file size.

Money is in fen, counts and ids are integers, dates ``YYYY-MM-DD`` and times
``YYYY-MM-DD HH:MM:SS`` in Beijing time (Asia/Shanghai, UTC+8).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import attrs

from ..days import BEIJING
from .config import SandboxConfig
from .hashing import Hasher

BillKind = Literal["video", "live"]
KINDS = ("video", "live")

_FEN = "（单位：分）"
#: The columns, in file order. The last two are not among the columns known from public
#: integrations: a reader must keep unknown columns.
HEADERS: tuple[str, ...] = (
    "账单统计日期", "视频ID", "视频关联的小程序ID", "视频关联的任务ID", "视频关联的团长ID",
    "视频发布时间", "视频归属用户抖音号",
    "视频累计播放量", "视频累计点击数", "视频累计评论数", "视频累计点赞数", "视频累计分享量",
    f"视频当日达人佣金{_FEN}", f"视频累计达人佣金{_FEN}",
    f"当日视频产生的交易订单支付金额{_FEN}", f"累计视频产生的交易订单支付金额{_FEN}",
    f"视频产生的交易订单当日退款金额{_FEN}", f"视频产生的交易订单累计退款金额{_FEN}",
    f"当日视频CPS关联的交易订单支付金额{_FEN}", f"累计视频CPS关联的交易订单支付金额{_FEN}",
    f"视频CPS关联的交易订单当日退款金额{_FEN}", f"视频CPS关联的交易订单累计退款金额{_FEN}",
    f"当日视频产生的广告收入{_FEN}", f"累计视频产生的广告收入{_FEN}",
    f"当日视频Feed流产生的广告收入{_FEN}", f"累计视频Feed流产生的广告收入{_FEN}",
    "当日视频关联的有效日活用户数", "累计视频关联的有效日活用户数",
    "视频结束计费时间", "结算状态", "账单流水号",
)
#: Columns the public integrations do not list.
UNKNOWN_HEADERS = ("结算状态", "账单流水号")
#: Columns holding integers (ids, counts, money in fen).
INT_HEADERS = frozenset(HEADERS[1:2] + HEADERS[3:5] + HEADERS[7:28])
#: Columns holding Beijing times.
TIME_HEADERS = frozenset({"视频发布时间", "视频结束计费时间"})
STATUSES = ("已结算", "结算中", "已冻结")

# Widest decimal form of each variable-width column (HEADERS[7:28]), by construction.
_WIDTHS = (7, 7, 7, 7, 7, 7, 9, 7, 9, 7, 9, 7, 9, 7, 9, 5, 7, 5, 7, 4, 6)
_SERIAL_MIN = 12
# Fixed-width ASCII: date 10, video id 19, app id 18, task id 19, agent id 19, two times 19
# each, douyin id 11, the serial's minimum, 30 commas and CRLF.
_ASCII_FIXED = 10 + 19 + 18 + 19 + 19 + 19 + 11 + 19 + _SERIAL_MIN + 30 + 2
ROW_ASCII = _ASCII_FIXED + sum(_WIDTHS)
_BLOCK_ROWS = 256
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
# "HH:MM:" for every minute of a day.
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
# Each row's metric columns are one of a file's _POOL metric texts, drawn by the row's hash.
_POOL = 4096
_POOL_MASK = _POOL - 1
# The numeric text plus the serial after "BL" always has this length.
_SERIAL_PAD = sum(_WIDTHS) + len(_WIDTHS) - 1 + _SERIAL_MIN - 2
_WINDOW = 180 * 86_400


@attrs.frozen
class BillFile:
    """One file's layout: its header bytes, fixed row length and size in bytes."""

    bill_date: dt.date
    agency: bool
    kind: BillKind
    rows: int
    encoding: str
    header: bytes
    row_bytes: int

    @property
    def size(self) -> int:
        """The file's length in bytes."""
        return len(self.header) + self.rows * self.row_bytes


class BillFiles:
    """Generates bill files, whole or from any byte offset."""

    def __init__(self, config: SandboxConfig, douyin_ids: Sequence[str]) -> None:
        self.config = config
        self._hash = Hasher(config.seed, "bills")
        self._douyin_ids = tuple(douyin_ids)
        self._apps = tuple(f"tt{self._hash.bits('app', a) % 16**16:016x}" for a in range(8))
        self._tasks = tuple(((1_690_000_000 + t * 86_400) << 32) | (self._hash.bits("task", t)
                            & 0xFFFFFFFF) for t in range(config.tasks))
        self._agents = tuple(7_000_000_000_000_000_000 + self._hash.bits("agent", g)
                             % 10**18 for g in range(len(config.agency_keys)))
        self._hex = self._hash.raw(384, "serial").hex()
        row_encoding = "utf-8" if config.bill_encoding == "utf-8-sig" else config.bill_encoding
        self._row_encoding = row_encoding
        self._status_bytes = len(STATUSES[0].encode(row_encoding))
        self._days: dict[int, tuple[str, str]] = {}
        self._pools: dict[int, tuple[str, ...]] = {}

    def file(self, bill_date: dt.date, agency: bool, kind: BillKind) -> BillFile:
        """The layout of one file."""
        if kind not in KINDS:
            raise ValueError(f"kind must be 'video' or 'live', got {kind!r}")
        rows = self.config.bill_rows if kind == "video" else self.config.bill_live_rows
        header = (",".join(HEADERS) + "\r\n").encode(self.config.bill_encoding)
        return BillFile(bill_date, agency, kind, rows, self.config.bill_encoding, header,
                        ROW_ASCII + self._status_bytes)

    def row_text(self, f: BillFile, i: int) -> str:
        """Row ``i`` of a file, with its CRLF."""
        return self._rows(f, i, i + 1)[0]

    def _metrics(self, key: int) -> tuple[str, ...]:
        """A file's pool of metric texts (the 21 numeric columns, comma-separated)."""
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        texts = []
        for j in range(_POOL):
            a = self._hash.pair(3, key, j)
            b = self._hash.pair(4, key, j)
            play = a % 10_000_000
            if (a >> 120) & 0xFF < 90:
                gmv = refund = cps = cps_refund = ad = feed = active = profit = 0
            else:
                gmv = (b & 0x3FF) * ((b >> 10) & 0x3FF) * 3
                refund = gmv * ((b >> 20) & 0x1F) // 100
                cps = gmv - gmv * ((b >> 25) & 7) // 100
                cps_refund = refund * ((b >> 28) & 0x3F) // 63
                ad = ((b >> 34) & 0xFFFF) % 50_000
                feed = ad * ((b >> 50) & 0x3F) // 63
                active = ((b >> 56) & 0xFFFF) % 5000
                profit = (cps - cps_refund) * (5 + ((b >> 72) & 0xF)) // 100 + ad // 2
            t = 1 + ((b >> 80) & 0x3F)
            numbers = [play, play * ((a >> 88) & 0xFF) // 1024, play * ((a >> 96) & 0x3F) // 4096,
                       play * ((a >> 102) & 0xFF) // 2048, play * ((a >> 110) & 0x1F) // 8192]
            for k, value in enumerate((profit, gmv, refund, cps, cps_refund, ad, feed, active)):
                numbers += (value, value * t + ((b >> (86 + 5 * k)) & 0x1F) * 100)
            texts.append(",".join(map(str, numbers)))
        if len(self._pools) >= 16:
            self._pools.clear()
        pool = self._pools[key] = tuple(texts)
        return pool

    def _rows(self, f: BillFile, first: int, stop: int) -> list[str]:
        key = f.bill_date.toordinal() * 4 + 2 * f.agency + (f.kind == "live")
        bill = f.bill_date.isoformat()
        # Seconds since the epoch, shifted to Beijing time: the day of row times is then
        # ``local // 86400`` and their time of day ``local % 86400``.
        day_end = (f.bill_date.toordinal() - _EPOCH_ORDINAL) * 86_400 + 86_399
        pair, hexes, apps, metrics = self._hash.pair, self._hex, self._apps, self._metrics(key)
        tasks, agents, ids = self._tasks, self._agents, self._douyin_ids
        n_tasks, n_agents, n_ids = len(tasks), len(agents), len(ids)
        days, clock = self._days, _CLOCK
        out = []
        for i in range(first, stop):
            a = pair(1, key, i)
            low, high = a & 0xFFFFFFFFFFFFFFFF, a >> 64
            local = day_end - (low & 0xFFFFFFFF) % _WINDOW
            day, second = divmod(local, 86_400)
            minute, second = divmod(second, 60)
            text = metrics[high & _POOL_MASK]
            start = (high >> 16) & 0xFF
            dates = days.get(day)
            if dates is None:
                if len(days) > 10_000:
                    days.clear()
                dates = days[day] = _day_strings(day)
            out.append(
                f"{bill},{((local - 28_800) << 32) | (i << 1) | 1},{apps[(low >> 32) & 7]},"
                f"{tasks[((low >> 35) & 0xFFFF) % n_tasks]},{agents[(low >> 51) % n_agents]},"
                f"{dates[0]} {clock[minute]}{second:02d},{ids[(high >> 24) % n_ids]},{text},"
                f"{dates[1]} 23:59:59,{STATUSES[(high >> 56) % 3]},"
                f"BL{hexes[start:start + _SERIAL_PAD - len(text)]}\r\n"
            )
        return out

    def read(self, f: BillFile, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, stop)`` of a file, in blocks of a few hundred rows."""
        stop = f.size if stop is None else min(stop, f.size)
        head = len(f.header)
        if start < head:
            yield f.header[start:min(head, stop)]
            start = head
        if start >= stop:
            return
        first, skip = divmod(start - head, f.row_bytes)
        last = (stop - 1 - head) // f.row_bytes
        for block in range(first, last + 1, _BLOCK_ROWS):
            upto = min(last + 1, block + _BLOCK_ROWS)
            data = "".join(self._rows(f, block, upto)).encode(self._row_encoding)
            lo = skip if block == first else 0
            excess = head + upto * f.row_bytes - stop
            yield data[lo:len(data) - max(excess, 0)]

    def rows(self, f: BillFile, decoded: bool = False) -> Iterator[dict[str, Any]]:
        """Every row of a file as a dict of header -> text (``decoded``: ints for ids, counts
        and money, a ``date`` for 账单统计日期, aware Beijing datetimes for times)."""
        for block in range(0, f.rows, _BLOCK_ROWS):
            for line in self._rows(f, block, min(f.rows, block + _BLOCK_ROWS)):
                row: dict[str, Any] = dict(zip(HEADERS, line[:-2].split(","), strict=True))
                if decoded:
                    row = {h: _decode(h, v) for h, v in row.items()}
                yield row


def _day_strings(day: int) -> tuple[str, str]:
    """The date of a day since the epoch, and of the day 180 days later (its billing end)."""
    date = dt.date.fromordinal(_EPOCH_ORDINAL + day)
    return date.isoformat(), (date + dt.timedelta(days=180)).isoformat()


def _decode(header: str, text: str) -> Any:
    if header in INT_HEADERS:
        return int(text)
    if header in TIME_HEADERS:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    if header == "账单统计日期":
        return dt.date.fromisoformat(text)
    return text
