"""The command line's words without a subprocess: relative dates (Beijing days, from an
injected clock), the 90-day limit told as dates, error messages in the user's terms, the
dry-run report and the one exit-code table."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from types import SimpleNamespace

import click
import pytest
from helpers.cli import pull_args

from douyin_async.cli import exits
from douyin_async.cli.dates import (
    check_window,
    parse_billing_dates,
    parse_day,
    parse_time,
)
from douyin_async.cli.dryrun import dry_run_report, plural, wall_text
from douyin_async.cli.exits import CliError
from douyin_async.cli.spec import bill_params, build_spec, rate_warnings
from douyin_async.cli.terminal.messages import describe
from douyin_async.days import BEIJING
from douyin_async.errors import ApiError, ResponseDecodeError, TransportError

#: 2026-11-20 09:30:00 UTC (17:30 in China).
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC).timestamp()
TODAY = dt.date(2026, 11, 20)


def usage(call: object) -> str:
    assert callable(call)
    with pytest.raises(CliError) as info:
        call()
    assert info.value.code == exits.USAGE
    return str(info.value)


def test_relative_days_are_read_from_one_instant() -> None:
    assert parse_day("today", "--x", TODAY) == TODAY
    assert parse_day("yesterday", "--x", TODAY) == dt.date(2026, 11, 19)
    assert parse_day("-30d", "--x", TODAY) == dt.date(2026, 10, 21)
    assert parse_billing_dates("-7d..-1d", NOW) == [
        dt.date(2026, 11, 13) + dt.timedelta(days=i) for i in range(7)]
    assert parse_billing_dates("yesterday", NOW) == [dt.date(2026, 11, 19)]
    assert parse_time("-30d", "--published-from", NOW) == int(
        dt.datetime(2026, 10, 21, tzinfo=BEIJING).timestamp())
    assert parse_time("yesterday", "--published-to", NOW, end_of_day=True) == int(
        dt.datetime(2026, 11, 19, 23, 59, 59, tzinfo=BEIJING).timestamp())
    for bad in ("-d", "+3d", "tomorrow", "-3w", "-7d..", "..-1d"):
        assert "--billing-date" in usage(lambda bad=bad: parse_billing_dates(bad, NOW))


#: 2026-12-06 23:30 UTC: 07:30 on 2026-12-07 in Beijing, a cron job's early run.
EARLY = dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC).timestamp()
#: 2026-12-07 01:00 UTC: 09:00 the same Beijing day.
LATER = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC).timestamp()


def test_relative_days_are_beijing_days() -> None:
    for now in (EARLY, LATER):
        assert parse_billing_dates("yesterday", now) == [dt.date(2026, 12, 6)]
        assert parse_billing_dates("-7d..-1d", now)[0] == dt.date(2026, 11, 30)
        assert parse_billing_dates("today", now) == [dt.date(2026, 12, 7)]
        # A day of a publish window starts at 00:00 Beijing time (16:00 UTC the day before).
        assert parse_time("-1d", "--published-from", now) == int(
            dt.datetime(2026, 12, 5, 16, tzinfo=dt.UTC).timestamp())
        assert parse_time("yesterday", "--published-to", now, end_of_day=True) == int(
            dt.datetime(2026, 12, 6, 15, 59, 59, tzinfo=dt.UTC).timestamp())
    # The 90-day limit's first whole day is a Beijing day too.
    start = parse_time("-91d", "--published-from", EARLY)
    assert usage(lambda: check_window(start, int(EARLY), "-91d", "today", EARLY)) == (
        "--published-from -91d (2026-09-07) is more than 90 days ago (limit: 2026-09-09)")
    spec = build_spec(_ns(*VIDEOS, "--sandbox"), now=EARLY)
    assert spec.params["billing_dates"] == ["2026-12-05", "2026-12-06"]


def test_date_options_take_relative_values_as_the_next_word() -> None:
    args = _ns("pull", "bills", "--bill-date", "-7d..-1d", "--out", "b.jsonl", "--sandbox")
    assert args.bill_date == "-7d..-1d"
    assert bill_params(args, LATER)["bill_dates"][::6] == ["2026-11-30", "2026-12-06"]
    videos = _ns("pull", "task-videos", "--billing-date", "-30d", "--published-from", "-30d",
                 "--published-to", "-1d", "--douyin-id", "-5d", "--out", "-")
    assert (videos.billing_date, videos.published_from, videos.douyin_id) == (
        "-30d", "-30d", ("-5d",))


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_run_at_0730_beijing_means_the_beijing_yesterday() -> None:
    # 2026-12-06 23:30 UTC is 07:30 on the 7th in Beijing: yesterday is the 6th.
    shown = subprocess.run(
        ["faketime", "2026-12-06 23:30:00", sys.executable, "-m", "douyin_async", "pull",
         "task-videos", "--sandbox", "--billing-date", "-3d..yesterday", "--published-from",
         "today", "--published-to", "yesterday", "--out", "v.jsonl"],
        capture_output=True, text=True, timeout=120, env={"TZ": "UTC", "PATH": "/usr/bin"})
    assert shown.returncode == 2, shown.stderr
    assert shown.stderr == ("douyin-async: error: --published-to yesterday (2026-12-06) is "
                            "before --published-from today (2026-12-07)\n")


def test_billing_dates_in_the_future_of_the_platform_are_refused() -> None:
    # 17:30 in China: the platform's today is the UTC today; tomorrow is refused.
    assert parse_billing_dates("2026-11-20", NOW) == [TODAY]
    assert usage(lambda: parse_billing_dates("2026-11-18..2026-11-21", NOW)) == (
        "--billing-date 2026-11-18..2026-11-21 is in the future (today on the platform, "
        "UTC+8: 2026-11-20)")
    late = dt.datetime(2026, 11, 20, 20, tzinfo=dt.UTC).timestamp()  # 04:00 the next day
    assert parse_billing_dates("2026-11-21", late) == [dt.date(2026, 11, 21)]
    assert "range ends before" in usage(lambda: parse_billing_dates("-1d..-3d", NOW))


def test_the_90_day_limit_is_told_in_dates() -> None:
    def window(first: str, last: str = "yesterday") -> str:
        start = parse_time(first, "--published-from", NOW)
        end = parse_time(last, "--published-to", NOW, end_of_day=True)
        return usage(lambda: check_window(start, end, first, last, NOW))

    # 90 days before 2026-11-20 09:30 is 2026-08-22 09:30: the first whole day is the 23rd.
    assert window("2026-08-01") == (
        "--published-from 2026-08-01 is more than 90 days ago (limit: 2026-08-23)")
    assert window("-90d") == (
        "--published-from -90d (2026-08-22) is more than 90 days ago (limit: 2026-08-23)")
    assert window("2026-08-22T00:00:00Z") == (
        "--published-from 2026-08-22T00:00:00Z is more than 90 days ago "
        "(limit: 2026-08-22T09:30:00Z)")
    assert window("2026-08-21T16:00:00Z") == (  # midnight in Beijing: told as a day
        "--published-from 2026-08-21T16:00:00Z (2026-08-22) is more than 90 days ago "
        "(limit: 2026-08-22T09:30:00Z)")
    assert window("-3d", "-5d") == (
        "--published-to -5d (2026-11-15) is before --published-from -3d (2026-11-17)")
    start = parse_time("2026-11-21", "--published-from", NOW)
    assert "is in the future" in usage(
        lambda: check_window(start, start + 5, "2026-11-21", "2026-11-21", NOW))
    check_window(parse_time("2026-08-23", "--x", NOW), int(NOW), "2026-08-23", "today", NOW)


def _ns(*argv: str) -> SimpleNamespace:
    return pull_args(argv)


VIDEOS = ("pull", "task-videos", "--billing-date", "-2d..-1d", "--published-from", "-40d",
          "--published-to", "yesterday", "--out", "v.jsonl")


def test_build_spec_checks_in_the_options_terms() -> None:
    spec = build_spec(_ns(*VIDEOS, "--sandbox"), now=NOW)
    assert spec.params["billing_dates"] == ["2026-11-18", "2026-11-19"]
    assert "--page-size 0: task-videos pages hold 1 to 10,000 records" in usage(
        lambda: build_spec(_ns(*VIDEOS, "--sandbox", "--page-size", "0"), now=NOW))
    assert "--sandbox and --base-url" in usage(
        lambda: build_spec(_ns(*VIDEOS, "--sandbox", "--base-url", "http://h"), now=NOW))
    media = ("pull", "talent-media", "--plan-id", "1", "--douyin-id", "a", "--out", "m.csv",
             "--sandbox")
    assert usage(lambda: build_spec(_ns(*media, "--content-type", "0"), now=NOW)) == (
        "--content-type 0: use 1 (short videos), 2 (live rooms), 3 (both)")
    assert usage(lambda: build_spec(_ns(*media, "--plan-id", "0"), now=NOW)) == (
        "--plan-id 0: a plan id is a positive 64-bit integer")


def test_rates_above_the_cap_warn() -> None:
    assert rate_warnings(_ns(*VIDEOS, "--rate-limit", "10"), None) == []
    (warning,) = rate_warnings(_ns(*VIDEOS, "--rate-limit", "12.5"), None)
    assert warning.startswith("--rate-limit 12.5 is above the platform's cap of 10 requests")
    assert rate_warnings(_ns(*VIDEOS, "--sandbox", "--sandbox-qps", "400", "--rate-limit",
                             "300"), None) == []
    (over,) = rate_warnings(_ns(*VIDEOS, "--sandbox", "--sandbox-qps", "20", "--rate-limit",
                                "30"), None)
    assert "above the sandbox's --sandbox-qps 20" in over


def test_no_abbreviations_and_a_missing_option_named_first() -> None:
    with pytest.raises(CliError, match="unrecognized arguments: --res"):
        _ns(*VIDEOS, "--res")
    with pytest.raises(CliError, match="required: --out"):
        _ns(*VIDEOS[:-2], "--ou", "v.jsonl")
    assert "exclude each other" in usage(lambda: build_spec(_ns(*VIDEOS, "--resume", "--force"),
                                                            now=NOW))


def test_errors_in_the_users_terms() -> None:
    path = "/poi/common/plan/talent/media/list/"
    missing = ApiError(0, "HTTP 404", endpoint=path, http_status=404)
    assert describe(missing, "https://api.example/v1/") == (
        f"HTTP 404 Not Found: https://api.example/v1{path}; is --base-url the API's root "
        "(e.g. https://open.douyin.com)?")
    html = ResponseDecodeError("not JSON", http_status=404, snippet="404", endpoint=path)
    assert describe(html, "http://h:1").startswith(f"HTTP 404 Not Found: http://h:1{path}")
    refused = TransportError("ClientConnectorError: Cannot connect to host 127.0.0.1:9 "
                             "ssl:default [Connect call failed ('127.0.0.1', 9)]", endpoint=path)
    refused.attempts = 3
    assert describe(refused, "http://127.0.0.1:9") == (
        "cannot connect to http://127.0.0.1:9: connection refused after 3 attempts")
    lead = TransportError("cannot connect to 127.0.0.1:9 (Connect call failed ('127.0.0.1', 9))",
                          endpoint=path)
    assert describe(lead, "http://127.0.0.1:9") == (
        "cannot connect to http://127.0.0.1:9: connection refused")
    bare = TransportError("cannot connect to h:1", endpoint=path)
    assert describe(bare, "http://h:1") == "cannot connect to http://h:1: connection failed"
    other = ApiError(2100007, "无权限操作", endpoint=path, log_id="L1")
    assert describe(other, "http://h") == str(other)


def test_dry_run_report_and_plurals() -> None:
    assert [plural(1, "page"), plural(2, "page"), plural(1, "retry", "retries"),
            plural(1234, "record")] == ["1 page", "2 pages", "1 retry", "1,234 records"]
    assert [wall_text(0.42), wall_text(234), wall_text(3720)] == ["0.4 s", "3 min 54 s",
                                                                  "1 h 02 min"]
    lines = dry_run_report(build_spec(_ns(*VIDEOS, "--sandbox"), now=NOW))
    assert lines[0] == "dry run: task-videos into v.jsonl"
    assert lines[1] == "units: 4 (2 billing dates x 2 windows of at most 30 days x 1 author)"
    assert lines[3].startswith("requests: at least 4 requests")
    assert lines[4].startswith("wall time: at least 0.4 s at 10 requests per second")


def test_the_exit_codes_are_listed_once() -> None:
    codes = [entry.code for entry in exits.EXIT_CODES]
    assert codes == sorted(set(codes))
    for entry in exits.EXIT_CODES:
        assert getattr(exits, entry.name) == entry.code
        assert f"  {entry.code:<4} " in exits.help_text()
        assert f"| {entry.code} | " in exits.markdown_table()
    constants = {name for name, value in vars(exits).items()
                 if name.isupper() and not name.startswith("_") and isinstance(value, int)}
    assert constants == {entry.name for entry in exits.EXIT_CODES}
    assert max(len(line) for line in exits.help_text().splitlines()) <= 80


def test_a_command_added_to_the_root_group_runs_as_the_others_do(
        capsys: pytest.CaptureFixture[str]) -> None:
    from douyin_async.cli import main as cli_main
    from douyin_async.cli.app import cli

    @click.command("probe")
    @click.option("--count", type=int, required=True)
    def probe(count: int) -> None:
        if count < 0:
            raise CliError("--count must not be negative", exits.USAGE)
        click.echo(f"count {count}")

    cli.add_command(probe)
    try:
        assert cli_main(["probe", "--count", "-3"]) == exits.USAGE  # "-3" is a value
        assert capsys.readouterr().err == "douyin-async: error: --count must not be negative\n"
        assert cli_main(["probe", "--count", "2"]) == 0 and capsys.readouterr().out == "count 2\n"
        assert cli_main(["probe"]) == exits.USAGE
        assert "required: --count" in capsys.readouterr().err
    finally:
        cli.commands.pop("probe")
