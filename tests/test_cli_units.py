"""Command-line pieces without a subprocess: dates, checkpoints, outputs, progress."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import click
import orjson
import pytest

from douyin_async.cli.dates import parse_billing_dates, parse_time
from douyin_async.cli.exits import CONFLICT, FILES, USAGE, CliError
from douyin_async.cli.outputs.checkpoint import CheckpointWriter, read_checkpoint, unit_key
from douyin_async.cli.outputs.rows import TALENT_MEDIA, TASK_VIDEOS, fixed_values
from douyin_async.cli.outputs.sinks import FileOutput, csv_encoder, csv_header, jsonl_encoder
from douyin_async.cli.outputs.sqlite import SqliteOutput
from douyin_async.cli.spec import read_ids_file
from douyin_async.cli.terminal.progress import Progress
from douyin_async.models import TalentMediaQuery, TaskVideoQuery
from douyin_async.stats import ClientStats

PARAMS = {"kind": "talent-media", "plan_ids": [1], "douyin_ids": ["a"], "content_type": 3,
          "page_size": 100, "format": "jsonl"}
BIG = 7270855478333246754
#: 2026-11-20 12:00:00 UTC.
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()


def media_row(i: int) -> dict[str, object]:
    return {"plan_id": BIG, "douyin_id": "dy", "content_open_id": f"@{i}", "content_type": 2,
            "gmv": i, "play_cnt": i, "talent_commission": i, "used_gmv": i}


# -- dates and ids ---------------------------------------------------------------------------


def test_billing_dates() -> None:
    assert parse_billing_dates("2026-11-01", NOW) == [dt.date(2026, 11, 1)]
    days = parse_billing_dates("2026-11-16..2026-11-18", NOW)
    assert days == [dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)]
    for bad in ("2026-02-30", "2026-11-02..2026-11-01", "soon", "2026-11-01.."):
        with pytest.raises(CliError) as info:
            parse_billing_dates(bad, NOW)
        assert info.value.code == USAGE


def test_times() -> None:
    assert parse_time("1700000000", "--x", NOW) == 1700000000
    beijing = 1793491200 - 8 * 3600  # a day starts at 00:00 in Beijing, 16:00 UTC before
    assert parse_time("2026-11-01", "--x", NOW) == beijing
    assert parse_time("2026-11-01", "--x", NOW, end_of_day=True) == beijing + 86399
    assert parse_time("2026-11-01T08:00:00+08:00", "--x", NOW) == 1793491200
    assert parse_time("2026-11-01T00:00:00Z", "--x", NOW) == 1793491200
    for bad in ("2026-11-01T00:00:00", "2026-13-01", "soon"):
        with pytest.raises(CliError) as info:
            parse_time(bad, "--x", NOW)
        assert info.value.code == USAGE
        assert "--x" in str(info.value)


def test_ids_file(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# talents\nalpha\n\n  beta  # second\n#gamma\n", encoding="utf-8")
    assert read_ids_file(str(path)) == ["alpha", "beta"]
    with pytest.raises(CliError) as info:
        read_ids_file(str(tmp_path / "missing.txt"))
    assert info.value.code == FILES


def test_unit_keys_are_stable_and_distinct() -> None:
    a = TaskVideoQuery("2026-11-01", 1, 2)
    assert unit_key(a) == unit_key(TaskVideoQuery("2026-11-01", 1, 2))
    assert unit_key(a) != unit_key(TaskVideoQuery("2026-11-01", 1, 2, douyin_id="x"))
    assert unit_key(TalentMediaQuery(plan_id=1, douyin_id="a")) != unit_key(
        TalentMediaQuery(plan_id=1, douyin_id="b"))


# -- checkpoint ------------------------------------------------------------------------------


def test_checkpoint_round_trip_ignores_a_cut_line(tmp_path: Path) -> None:
    path = str(tmp_path / "out.jsonl.ckpt")
    writer = CheckpointWriter.create(path, PARAMS)
    writer.record("u1", 1, False, {"offset": 100})
    writer.record("u2", 1, True, {"offset": 250})
    writer.record("u1", 2, False, {"offset": 400})
    writer.close()
    intact = Path(path).stat().st_size
    with open(path, "ab") as handle:
        handle.write(b'{"unit": "u1", "pa')  # killed in the middle of a line
    state = read_checkpoint(path)
    assert state is not None
    assert state.params == PARAMS
    assert state.offset == 400
    assert state.units == {"u1": (2, False), "u2": (1, True)}
    assert state.intact == intact
    assert (state.start_page("u1"), state.start_page("u2"), state.start_page("u3")) == (3, 0, 1)
    CheckpointWriter.reopen(path, state).close()
    assert Path(path).stat().st_size == intact


def test_damaged_checkpoint_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.ckpt"
    path.write_bytes(b"garbage\nmore garbage\n")
    with pytest.raises(CliError) as info:
        read_checkpoint(str(path))
    assert info.value.code == FILES


# -- file outputs ----------------------------------------------------------------------------


def test_jsonl_resume_truncates_to_the_checkpoint(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    first = FileOutput(out, jsonl_encoder)
    assert first.open(PARAMS, resume=False, force=False) is None
    first.write_page("u", 1, False, [media_row(1), media_row(2)])
    first.close()
    with open(out, "ab") as handle:  # a page written but never checkpointed
        handle.write(jsonl_encoder([media_row(3)]))
    again = FileOutput(out, jsonl_encoder)
    state = again.open(PARAMS, resume=True, force=False)
    assert state is not None and state.start_page("u") == 2
    again.write_page("u", 2, True, [media_row(4)])
    again.finish()
    again.close()
    rows = [orjson.loads(line) for line in Path(out).read_bytes().splitlines()]
    assert [r["content_open_id"] for r in rows] == ["@1", "@2", "@4"]
    assert rows[0]["plan_id"] == BIG
    done = read_checkpoint(out + ".ckpt")
    assert done is not None and done.complete


def test_resume_when_the_output_was_never_created(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    CheckpointWriter.create(str(out) + ".ckpt", PARAMS).close()
    sink = FileOutput(str(out), csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    state = sink.open(PARAMS, resume=True, force=False)
    sink.close()
    assert state is None  # a checkpoint of no page is a fresh start
    assert not out.exists()  # and a run that recorded nothing leaves nothing behind


def test_existing_output_needs_resume_or_force(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    started = FileOutput(str(out), jsonl_encoder)  # a pull that failed before its first page
    started.open(PARAMS, resume=False, force=False)
    started.close()
    again = FileOutput(str(out), jsonl_encoder)
    again.open(PARAMS, resume=False, force=False)  # nothing was written: no conflict
    again.close()
    Path(str(out) + ".ckpt").unlink(missing_ok=True)
    out.write_bytes(b"{}\n")
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(PARAMS, resume=False, force=False)
    assert info.value.code == CONFLICT
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(PARAMS, resume=True, force=False)
    assert info.value.code == CONFLICT  # nothing to resume from
    forced = FileOutput(str(out), jsonl_encoder)
    forced.open(PARAMS, resume=False, force=True)
    forced.write_page("u", 1, False, [])
    forced.close()
    assert out.read_bytes() == b""
    other = dict(PARAMS, page_size=50)
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(other, resume=True, force=False)
    assert info.value.code == CONFLICT
    assert "page_size" in str(info.value)


def test_csv_rows_keep_ids_exact_and_header_once(tmp_path: Path) -> None:
    out = str(tmp_path / "out.csv")
    sink = FileOutput(out, csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    sink.open(PARAMS, resume=False, force=False)
    sink.close()  # killed before the first page
    sink = FileOutput(out, csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    sink.open(PARAMS, resume=True, force=False)
    sink.write_page("u", 1, True, [media_row(1), {**media_row(2), "extra": {"new_key": 5}}])
    sink.close()
    rows = list(csv.DictReader(io.StringIO(Path(out).read_text(encoding="utf-8-sig"))))
    assert [r["plan_id"] for r in rows] == [str(BIG), str(BIG)]
    assert rows[0]["extra"] == "" and orjson.loads(rows[1]["extra"]) == {"new_key": 5}


def test_fixed_values_follow_the_columns() -> None:
    values = fixed_values({"billing_date": "2026-11-01", "video_id": BIG}, TASK_VIDEOS)
    assert len(values) == len(TASK_VIDEOS.columns)
    assert values[0] == "2026-11-01" and values[-1] is None


# -- sqlite ----------------------------------------------------------------------------------


def test_sqlite_upserts_and_keeps_its_checkpoint(tmp_path: Path) -> None:
    out = str(tmp_path / "out.sqlite")
    db = SqliteOutput(out, TALENT_MEDIA, "talent-media")
    db.open(PARAMS, resume=False, force=False)
    db.write_page("u", 1, False, [media_row(1), media_row(2)])
    db.close()
    with pytest.raises(CliError) as info:
        SqliteOutput(out, TALENT_MEDIA, "talent-media").open(PARAMS, resume=False, force=False)
    assert info.value.code == CONFLICT
    db = SqliteOutput(out, TALENT_MEDIA, "talent-media")
    state = db.open(PARAMS, resume=True, force=False)
    assert state is not None and state.start_page("u") == 2
    db.write_page("u", 1, False, [media_row(1), {**media_row(2), "gmv": 99}])
    db.write_page("u", 2, True, [media_row(3)])
    db.finish()
    db.close()
    with sqlite3.connect(out) as conn:
        rows = conn.execute("SELECT plan_id, content_open_id, gmv FROM talent_media "
                            "ORDER BY content_open_id").fetchall()
    conn.close()
    assert rows == [(BIG, "@1", 1), (BIG, "@2", 99), (BIG, "@3", 3)]


def test_unwritable_sqlite_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CliError) as info:
        SqliteOutput(str(tmp_path / "no" / "such.db"), TALENT_MEDIA, "talent-media").open(
            PARAMS, resume=False, force=False)
    assert info.value.code == FILES


# -- progress --------------------------------------------------------------------------------


def test_progress_eta_from_known_page_counts() -> None:
    now = [0.0]
    stream = io.StringIO()
    stats = ClientStats(requests=10, retries=1)
    progress = Progress(stats, stream, units_total=2, rate_cap=10, live=False, quiet=False,
                        clock=lambda: now[0])
    now[0] = 2.0
    progress.on_page("a", 1, 100, False, 4)
    progress.on_page("b", 1, 100, False, 2)
    progress.show()
    line = stream.getvalue()
    assert line.startswith("progress: pages 2 | records 200 | 5.0/10 req/s | retries 1")
    assert "ETA 0:04" in line  # 4 pages left at one page per second
    assert "units 0/2" in line
    quiet = io.StringIO()
    Progress(stats, quiet, units_total=1, rate_cap=10, live=False, quiet=True).show()
    assert quiet.getvalue() == ""


def test_parser_errors_are_one_line() -> None:
    from helpers.cli import pull_args

    from douyin_async.cli.app import cli

    for argv in (["pull", "task-videos", "--bogus"], ["pull", "talent-media", "--plan-id", "x"],
                 ["pull"], ["pull", "bills", "--out", "b.jsonl"], ["nothing"]):
        with pytest.raises(CliError) as info:
            pull_args(argv)
        assert info.value.code == USAGE and "\n" not in str(info.value), argv
        assert str(info.value).endswith("--help')"), argv
    assert isinstance(cli, click.Group)


# -- apps files ------------------------------------------------------------------------------


def test_apps_file_in_toml_and_json(tmp_path: Path) -> None:
    from douyin_async.cli.apps import load_apps

    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "b.token").write_text("  token-b\n")
    toml = tmp_path / "apps.toml"
    toml.write_text('[[apps]]\nname = "a"\nclient_key = "key-a"\nclient_secret = "sec-a"\n'
                    'rate = 5\n\n[[apps]]\nname = "b"\naccess_token_file = "tokens/b.token"\n')
    a, b = load_apps(str(toml))
    assert (a.name, a.client_key, a.client_secret, a.rate, a.quota_name) == (
        "a", "key-a", "sec-a", 5.0, "key-a")
    assert (b.name, b.access_token, b.rate, b.quota_name) == ("b", "token-b", None, "b")
    assert "sec-a" not in repr(a) and "token-b" not in repr(b)
    bare = tmp_path / "apps.json"
    bare.write_text('[{"name": "shop.c@x", "access_token": "t"}]')
    assert [app.name for app in load_apps(str(bare))] == ["shop.c@x"]


@pytest.mark.parametrize(("document", "words"), [
    ('{"apps": {"a": "tok-secret"}}', "expected a list"),
    ('{"apps": [], "extra": 1}', "only top-level key"),
    ('["tok-secret"]', "each app must be"),
    ('[{"access_token": "tok-secret"}]', "needs a name"),
    ('[{"name": "a b", "access_token": "tok-secret"}]', "needs a name"),
    ('[{"name": "a"}]', "exactly one of"),
    ('[{"name": "a", "access_token": ""}]', "non-empty"),
    ('[{"name": "a", "access_token": "tok-secret", "rate": 0}]', "rate"),
    ('[{"name": "a", "access_token": "tok-secret", "rate": true}]', "rate"),
    ('[{"name": "a", "access_token": "tok-secret", "tok-secret": 1}]', "(not shown)"),
    ('[{"name": "a", "client_key": "k{1}", "client_secret": "tok-secret"}]', "braces"),
    ('[{"name": "a", "access_token_file": "missing.token"}]', "cannot read"),
    ('[{"name": "a", "client_key": "k", "client_secret": "tok-secret"}, '
     '{"name": "b", "client_key": "k", "client_secret": "tok-secret"}]', "same client key"),
    ('[{"name": "a", "access_token": "tok-secret"}, {"name": "b", "access_token": "tok-secret"}]',
     "same access token"),
])
def test_bad_apps_entries(tmp_path: Path, document: str, words: str) -> None:
    from douyin_async.cli.apps import load_apps
    from douyin_async.cli.exits import APPS

    path = tmp_path / "apps.json"
    path.write_text(document)
    with pytest.raises(CliError) as info:
        load_apps(str(path))
    assert info.value.code == APPS
    assert words in str(info.value) and "tok-secret" not in str(info.value)


def test_app_rows_keys_and_tables() -> None:
    from douyin_async.cli.outputs.rows import page_rows, table_for, with_app
    from douyin_async.models import TalentMediaPage

    table = table_for("talent-media", apps=True)
    assert table == with_app(TALENT_MEDIA) and table.names[0] == "app"
    assert table.key == ("app", *TALENT_MEDIA.key)
    query = TalentMediaQuery(plan_id=1, douyin_id="a")
    assert unit_key(query, "x") != unit_key(query, "y") != unit_key(query)
    assert unit_key(query, None) == unit_key(query)
    from douyin_async.decode.converter import decode_talent_media
    from douyin_async.sandbox import SandboxConfig, SandboxData

    raw = next(iter(SandboxData(SandboxConfig()).talent_media(1, "a", 3)))
    page = TalentMediaPage(query=query, page=1, records=[decode_talent_media(raw)], log_id="l",
                           total=1, page_count=1)
    (row,) = page_rows(page, "x")
    assert list(row)[:3] == ["app", "plan_id", "douyin_id"] and row["app"] == "x"
    assert "app" not in page_rows(page)[0]


def test_sqlite_refuses_a_table_of_the_other_shape(tmp_path: Path) -> None:
    from douyin_async.cli.outputs.rows import with_app

    path = str(tmp_path / "m.sqlite")
    plain = SqliteOutput(path, TALENT_MEDIA, "talent-media")
    plain.open(PARAMS, resume=False, force=False)
    plain.close()
    apps = SqliteOutput(path, with_app(TALENT_MEDIA), "talent-media")
    with pytest.raises(CliError) as info:
        apps.open({**PARAMS, "apps": ["a"]}, resume=False, force=True)
    apps.close()
    assert info.value.code == CONFLICT and "without --apps" in str(info.value)


def test_progress_of_many_apps() -> None:
    from douyin_async.cli.terminal.progress import Totals

    now = [0.0]
    a, b = ClientStats(requests=20, retries=2), ClientStats(requests=10, rate_limited=1)
    stream = io.StringIO()
    progress = Progress(Totals([a, b]), stream, units_total=4, rate_cap=20, live=False,
                        quiet=False, clock=lambda: now[0], apps={"a": a, "b": b})
    now[0] = 2.0
    progress.on_page("ua", 1, 100, True, 1, "a")
    progress.app_done("a")
    now[0] = 4.0
    progress.on_page("ub", 1, 50, False, 2, "b")
    progress.show()
    line = stream.getvalue()
    assert "7.5/20 req/s (2 apps: a 10.0, b 2.5) | retries 2 | rate-limited 1" in line
    assert progress.app_lines() == [
        "app a: 100 records, 1 page, 20 requests (10.0 req/s), 2 retries, 0 rate-limited",
        "app b: 50 records, 1 page, 10 requests (2.5 req/s), 0 retries, 1 rate-limited"]
    assert progress.summary().endswith("1/4 units, 2 apps, wall 4.0 s")
    many = {f"app-{i}": ClientStats(requests=i) for i in range(6)}
    wide = Progress(Totals(list(many.values())), io.StringIO(), units_total=6, rate_cap=60,
                    live=False, quiet=False, clock=lambda: now[0], apps=many)
    now[0] += 4.0
    assert "(6 apps: 0.0..1.2 each)" in wide.line()


def test_redis_url_is_checked_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    from douyin_async.cli.shared_quota import describe
    from douyin_async.cli.spec import redis_url_option

    def ns(url: str | None) -> SimpleNamespace:
        return SimpleNamespace(redis_url=url)

    monkeypatch.delenv("DOUYIN_REDIS_URL", raising=False)
    assert redis_url_option(ns(None)) is None
    monkeypatch.setenv("DOUYIN_REDIS_URL", " redis://h:1/2 ")
    assert redis_url_option(ns(None)) == "redis://h:1/2"
    assert redis_url_option(ns("unix:///run/redis.sock")) == "unix:///run/redis.sock"
    with pytest.raises(CliError) as info:
        redis_url_option(ns("http://user:hunter2@h"))
    assert info.value.code == USAGE and "hunter2" not in str(info.value)
    assert describe("redis://:hunter2@cache.internal:6380/3") == "Redis at cache.internal:6380/3"
    assert describe("rediss://u:p@h") == "Redis at h:6379/0"
    assert describe("unix:///run/redis.sock") == "Redis at unix:/run/redis.sock"


def test_a_spread_sync_names_a_fixed_tokens_quota_as_a_pull_does() -> None:
    """One app, one shared quota: the Redis key of a sync's units is the pull's."""
    import asyncio

    from douyin_async import StaticToken
    from douyin_async.cli import queue_access
    from douyin_async.cli.credentials import quota_name

    for access in ("tok-0123456789", StaticToken("tok-0123456789")):
        assert queue_access._quota(access) == asyncio.run(quota_name(access))
        assert queue_access._quota(access).startswith("token-")
