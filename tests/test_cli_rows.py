"""What a pull's rows keep: the answer's data date on talent-media rows, and keys the client
does not know in one ``extra`` object under one spelling, in every output."""

from __future__ import annotations

import time
from pathlib import Path

from helpers.cli import FAST, assert_ok, cli, csv_rows, day, jsonl_rows, sqlite_rows

from douyin_async.sandbox.envelopes import data_date

VIDEOS = ["pull", "task-videos", *FAST, "--sandbox-realistic", "--billing-date", day(-1),
          "--published-from", day(-6), "--published-to", day(-1), "--quiet"]


def test_unknown_keys_are_one_extra_object_under_one_spelling(tmp_path: Path) -> None:
    for name, read in (("v.jsonl", jsonl_rows), ("v.csv", csv_rows),
                       ("v.sqlite", lambda p: sqlite_rows(p, "task_videos"))):
        out = tmp_path / name
        assert_ok(cli(*VIDEOS, "--out", str(out)))
        rows = read(out)
        assert len(rows) > 100, name
        assert not any("TalentProfit1d" in row or "talent_profit_1d" in row for row in rows)
        assert {key for row in rows for key in row["extra"]} == {"talent_profit_1d"}, name
        assert all(int(row["extra"]["talent_profit_1d"]) >= 0 for row in rows)


def test_talent_media_rows_carry_the_answer_date(tmp_path: Path) -> None:
    before = data_date(time.time())
    for name, read in (("m.jsonl", jsonl_rows),
                       ("m.sqlite", lambda p: sqlite_rows(p, "talent_media"))):
        out = tmp_path / name
        assert_ok(cli("pull", "talent-media", *FAST, "--plan-id", "42", "--douyin-id", "dy_a",
                      "--out", str(out), "--quiet"))
        rows = read(out)
        assert rows and {row["date"] for row in rows} <= {before, data_date(time.time())}
