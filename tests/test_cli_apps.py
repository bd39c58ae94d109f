"""``--apps`` and ``--redis-url`` end to end: real subprocesses, real files, a real sandbox, a real
redis-server; and the secrets of a pull (client secret, every token the sandbox issued) kept
out of everything the command prints or writes.

Outputs are compared with the sandbox's ground truth exactly, per app; pacing is read off the
sandbox's request log, per token.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import helpers.cli as h
import pytest

from douyin_async.sandbox import fingerprint, max_in_window
from douyin_async.sandbox.config import (
    CLIENT_KEY,
    CLIENT_SECRET,
    RegisteredClient,
    SandboxConfig,
)
from douyin_async.sandbox.server import ThreadedSandbox

if TYPE_CHECKING:
    from redis_server import RedisServer

pytest_plugins = ["redis_server"]  # the redis_server fixture

PLAN = 42
TALENTS = ["dy_a", "dy_b"]
MEDIA_ARGS = ["pull", "talent-media", "--plan-id", str(PLAN), "--douyin-id", TALENTS[0],
              "--douyin-id", TALENTS[1], "--content-type", "3"]
REJECTED = "28003018"


def with_app(truth: dict[tuple[Any, ...], dict[str, Any]], app: str
             ) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Ground truth as one app's rows: ``app`` first in the row and in the key."""
    return {(app, *key): {"app": app, **row} for key, row in truth.items()}


def write_apps(path: Path, apps: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"apps": apps}), encoding="utf-8")
    return path


def figures(sandbox: ThreadedSandbox, token_fingerprint: str) -> dict[str, Any]:
    """What the sandbox saw of one token on the data endpoints."""
    mine = [e for e in sandbox.log.entries() if e.token == token_fingerprint
            and e.endpoint in ("task_video", "talent_media")]
    arrivals = sorted(e.monotonic for e in mine)
    ok = sorted(e.monotonic for e in mine if e.outcome == "ok")
    span = ok[-1] - ok[0] if len(ok) > 1 else 0.0
    return {"requests": len(mine), "rejected": sum(e.outcome == REJECTED for e in mine),
            "rolling_max": max_in_window(arrivals, 1.0),
            "rate": round((len(ok) - 1) / span, 2) if span else 0.0}


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("douyin-async: error: "), result.stderr
    return lines[0]


# -- many apps in one pull -------------------------------------------------------------------


@pytest.mark.slow
def test_three_apps_in_one_pull_each_within_its_cap(tmp_path: Path) -> None:
    tokens = {"shop-a": "token-shop-a-5d1c", "shop-b": "token-shop-b-77e0"}
    (tmp_path / "b.token").write_text(tokens["shop-b"] + "\n")
    apps = write_apps(tmp_path / "apps.json", [
        {"name": "shop-a", "access_token": tokens["shop-a"]},
        {"name": "shop-b", "access_token_file": "b.token", "rate": 8},
        {"name": "shop-c", "client_key": "key-shop-c", "client_secret": "secret-shop-c-9f3"},
    ])
    config = SandboxConfig(seed=h.SEED, static_tokens=frozenset(tokens.values()),
                           clients=(RegisteredClient("key-shop-c", "secret-shop-c-9f3"),))
    out = tmp_path / "media.sqlite"
    with ThreadedSandbox(config) as sandbox:
        result = h.cli(*MEDIA_ARGS, "--base-url", sandbox.url, "--apps", str(apps),
                     "--out", str(out), "--progress-interval", "0.5")
        seen = {fingerprint(t): name for name, t in tokens.items()}
        data_tokens = {e.token for e in sandbox.log.entries() if e.endpoint == "talent_media"}
        (issued,) = data_tokens - set(seen)  # shop-c's client token
        seen[issued] = "shop-c"
        per_app = {name: figures(sandbox, fp) for fp, name in seen.items()}
        url = sandbox.url
        again = h.cli(*MEDIA_ARGS, "--base-url", url, "--apps", str(apps),
                    "--out", str(out), "--resume")
    h.assert_ok(result)
    print(f"\nthree apps: {per_app}")
    truth = h.media_truth([PLAN], TALENTS, 3)
    expected = {k: v for app in ("shop-a", "shop-b", "shop-c")
                for k, v in with_app(truth, app).items()}
    assert h.keyed(h.sqlite_rows(out, "talent_media"), ("app", *h.MEDIA_KEY)) == expected
    caps = {"shop-a": 10, "shop-b": 8, "shop-c": 10}
    for name, seen_of_app in per_app.items():
        assert seen_of_app["rejected"] == 0, (name, seen_of_app)
        assert seen_of_app["rolling_max"] <= caps[name], (name, seen_of_app)
        assert seen_of_app["rate"] >= 0.8 * caps[name], (name, seen_of_app)
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(f"done: {len(expected):,} records") and "3 apps" in lines[-1]
    assert [line.split(":")[0] for line in lines[-4:-1]] == [
        "app shop-a", "app shop-b", "app shop-c"]
    progress = [line for line in lines if line.startswith("progress: ")]
    assert progress and "(3 apps: shop-a " in progress[-1]
    h.assert_ok(again)
    assert "already complete" in again.stderr
    other = h.cli(*MEDIA_ARGS, "--base-url", "http://127.0.0.1:9", "--apps", str(apps),
                "--out", str(out), "--resume")
    assert other.returncode == 8  # the checkpoint belongs to another server's data
    assert "'http://127.0.0.1:9'" in other.stderr and url in other.stderr


@pytest.mark.slow
def test_killed_multi_app_pull_resumes_to_the_exact_record_set(tmp_path: Path) -> None:
    apps = write_apps(tmp_path / "apps.json", [
        {"name": "north", "access_token": "token-north"},
        {"name": "south", "access_token": "token-south"},
    ])
    out = tmp_path / "videos.jsonl"
    ckpt = tmp_path / "videos.jsonl.ckpt"
    args = ["pull", "task-videos", "--sandbox", "--sandbox-seed", str(h.SEED),
            "--sandbox-latency", "0.03", "--sandbox-qps", "120", "--rate-limit", "100",
            "--quiet", "-vv", "--log-format", "json", "--apps", str(apps), "--billing-date",
            h.day(-1), "--published-from", h.day(-5), "--published-to", h.day(-1), "--page-size",
            "150", "--out", str(out)]
    for n, pages in enumerate((8, 12)):  # stopped after counted pages, then resumed
        code, lines = h.stop_after([*args, "--resume"] if n else args, pages, signal.SIGKILL)
        assert code == -signal.SIGKILL, lines[-1:]
    code, lines = h.stop_after([*args, "--resume"], None, signal.SIGKILL)
    assert code == 0, lines[-1:]
    truth = h.video_truth([h.day(-1)], h.day(-5), h.day(-1))
    expected = {**with_app(truth, "north"), **with_app(truth, "south")}
    rows = h.jsonl_rows(out)
    assert list(rows[0])[:2] == ["app", "billing_date"]
    assert h.keyed(rows, ("app", *h.VIDEO_KEY)) == expected
    units = {json.loads(line)["unit"] for line in ckpt.read_text().splitlines()[1:]
             if "unit" in line}
    assert {json.loads(u)[1] for u in units} == {"north", "south"}


def test_sandbox_accepts_the_apps_credentials_and_csv_has_an_app_column(tmp_path: Path) -> None:
    apps = tmp_path / "apps.toml"
    apps.write_text('[[apps]]\nname = "one"\naccess_token = "token-one"\n\n'
                    '[[apps]]\nname = "two"\nclient_key = "key-two"\n'
                    'client_secret = "secret-two"\nrate = 50\n', encoding="utf-8")
    out = tmp_path / "m.csv"
    result = h.cli("pull", "talent-media", "--sandbox", "--sandbox-seed", str(h.SEED),
                 "--sandbox-qps", "400", "--rate-limit", "200", "--apps", str(apps),
                 "--plan-id", str(PLAN), "--douyin-id", "dy_a", "--content-type", "2",
                 "--out", str(out))
    h.assert_ok(result)
    truth = h.media_truth([PLAN], ["dy_a"], 2)
    rows = h.csv_rows(out)
    assert list(rows[0])[0] == "app"
    assert h.keyed(rows, ("app", *h.MEDIA_KEY)) == h.as_text(
        {**with_app(truth, "one"), **with_app(truth, "two")})


# -- bad apps files --------------------------------------------------------------------------

SECRET = "s3cret-value-never-shown"


@pytest.mark.parametrize(("content", "words"), [
    (None, "cannot read"),
    ('{"apps": [{"name": "a", "access_token": "' + SECRET + '",}]}', "not valid JSON"),
    ("[[apps]]\nname = 'a'\nclient_secret = '" + SECRET + "\n", "not valid TOML"),
    ('{"apps": []}', "lists no apps"),
    ('[{"name": "a", "access_token": "t1-' + SECRET + '"}, '
     '{"name": "a", "access_token": "t2-' + SECRET + '"}]', "'a' appears twice"),
    ('[{"name": "a", "client_key": "k", "client_secret": "' + SECRET + '", '
     '"access_token": "' + SECRET + '"}]', "exactly one of"),
    ('[{"name": "a", "client_secret": "' + SECRET + '"}]', "go together"),
    ('[{"name": "a", "access_token": "t1", "client_secert": "' + SECRET + '"}]',
     "'client_secert'"),
])
def test_bad_apps_file(tmp_path: Path, content: str | None, words: str) -> None:
    suffix = ".toml" if content and content.startswith("[[") else ".json"
    apps = tmp_path / f"apps{suffix}"
    if content is not None:
        apps.write_text(content, encoding="utf-8")
    result = h.cli(*MEDIA_ARGS, "--sandbox", "--apps", str(apps), "--out",
                 str(tmp_path / "out.jsonl"))
    line = one_line_error(result, 9)
    assert words in line and "apps file" in line
    assert SECRET not in result.stderr + result.stdout
    assert not (tmp_path / "out.jsonl").exists()


def test_apps_and_a_token_file_exclude_each_other(tmp_path: Path) -> None:
    apps = write_apps(tmp_path / "apps.json", [{"name": "a", "access_token": "t"}])
    result = h.cli(*MEDIA_ARGS, "--base-url", "http://127.0.0.1:9", "--apps", str(apps),
                 "--access-token-file", str(apps), "--out", str(tmp_path / "o.jsonl"))
    assert "exclude each other" in one_line_error(result, 2)


# -- a quota shared through Redis ------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_share_one_apps_quota_through_redis(
        tmp_path: Path, redis_server: RedisServer) -> None:
    token = "token-shared-app-41c2"
    apps = write_apps(tmp_path / "apps.json", [{"name": "shared", "access_token": token}])
    config = SandboxConfig(seed=h.SEED, static_tokens=frozenset({token}), qps=10)
    outs = [tmp_path / "first.jsonl", tmp_path / "second.jsonl"]
    with ThreadedSandbox(config) as sandbox:
        env = h.clean_env(DOUYIN_REDIS_URL=redis_server.url)
        processes = [subprocess.Popen(
            [sys.executable, "-m", "douyin_async", *MEDIA_ARGS, "--base-url", sandbox.url,
             "--apps", str(apps), "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for out in outs]
        results = [p.communicate(timeout=60) for p in processes]
        seen = figures(sandbox, fingerprint(token))
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    rates = [float(re.findall(r"\(([\d.]+) req/s\)", err.splitlines()[-2])[0])
             for _, err in results]
    print(f"\ntwo processes, one app over Redis: {seen}; per process {rates} req/s")
    assert seen["rejected"] == 0, seen
    assert seen["rolling_max"] <= 10, seen
    assert seen["rate"] >= 8.5, seen  # together near the cap, not each at it
    truth = with_app(h.media_truth([PLAN], TALENTS, 3), "shared")
    for out in outs:
        assert h.keyed(h.jsonl_rows(out), ("app", *h.MEDIA_KEY)) == truth
    assert all(rate < 7.5 for rate in rates), rates  # each got a share, not the whole cap


def test_redis_unreachable_is_a_transport_error(tmp_path: Path) -> None:
    result = h.cli("pull", "talent-media", "--sandbox", "--plan-id", "42", "--douyin-id", "dy_a",
                 "--redis-url", "redis://:pa55word-x@127.0.0.1:9/0", "--out",
                 str(tmp_path / "o.jsonl"))
    line = one_line_error(result, 7)
    assert "Redis at 127.0.0.1:9/0" in line and "pa55word-x" not in line
    assert not (tmp_path / "o.jsonl").exists()


def test_redis_url_without_the_redis_package(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "redis"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named redis')\n")
    env = h.clean_env(PYTHONPATH=str(fake.parent), DOUYIN_REDIS_URL="redis://127.0.0.1:9/0")
    result = h.cli("pull", "talent-media", "--sandbox", "--plan-id", "42", "--douyin-id", "dy_a",
                 "--out", str(tmp_path / "o.jsonl"), env=env)
    line = one_line_error(result, 2)
    assert "pip install 'douyin-async[redis]'" in line
    # Without the option, redis is never imported: the pull works.
    del env["DOUYIN_REDIS_URL"]
    h.assert_ok(h.cli("pull", "talent-media", "--sandbox", "--sandbox-qps", "400", "--rate-limit",
                  "200", "--plan-id", "42", "--douyin-id", "dy_a", "--quiet",
                  "--out", str(tmp_path / "o.jsonl"), env=env))


# -- secrets ---------------------------------------------------------------------------------


@pytest.fixture
def renewing_sandbox() -> Iterator[tuple[ThreadedSandbox, list[str]]]:
    """A sandbox whose client tokens live one second, with faults; and the list of every
    token it issues (recorded where the token authority mints them)."""
    config = SandboxConfig(seed=h.SEED, token_lifetime=1, server_error_rate=0.04,
                           bad_gateway_rate=0.02, reset_rate=0.02, cut_body_rate=0.02,
                           rate_limit_rate=0.02)
    with ThreadedSandbox(config) as sandbox:
        authority = sandbox._sandbox.server.auth
        issued: list[str] = []
        mint = authority._new_secret

        def recording(prefix: str) -> str:
            token = mint(prefix)
            issued.append(token)
            return token

        authority._new_secret = recording  # type: ignore[method-assign]
        yield sandbox, issued
        # The record holds every token the authority still knows.
        assert set(authority._issued) <= set(issued)


def files_text(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.mark.slow
def test_no_secret_or_issued_token_is_ever_printed_or_written(
        tmp_path: Path, renewing_sandbox: tuple[ThreadedSandbox, list[str]]) -> None:
    sandbox, issued = renewing_sandbox
    work = tmp_path / "work"
    work.mkdir()
    env = h.clean_env(DOUYIN_CLIENT_KEY=CLIENT_KEY, DOUYIN_CLIENT_SECRET=CLIENT_SECRET,
                    DOUYIN_BASE_URL=sandbox.url)
    ok = h.cli("pull", "talent-media", "--plan-id", str(PLAN), "--douyin-id", "dy_a",
             "--douyin-id", "dy_b", "--douyin-id", "dy_c", "--content-type", "3",
             "--max-retries", "8", "--progress-interval", "0.2", "--out", "media.jsonl",
             env=env, cwd=work)
    h.assert_ok(ok)
    bad = h.cli("pull", "talent-media", "--plan-id", str(PLAN), "--douyin-id", "dy_a",
              "--max-retries", "1", "--out", "denied.csv", cwd=work,
              env={**env, "DOUYIN_CLIENT_SECRET": "wrong-" + CLIENT_SECRET})
    one_line_error(bad, 4)
    data = [e for e in sandbox.log.entries() if e.endpoint == "talent_media"]
    tokens_used = Counter(e.token for e in data)
    faults = Counter(e.fault for e in data if e.fault)
    print(f"\nsecrets: {len(issued)} tokens issued, {len(tokens_used)} used on {len(data)} data "
          f"requests, faults {dict(faults)}")
    assert len(issued) >= 3 and len(tokens_used) >= 3  # renewed several times
    assert faults  # and some answers were faults
    assert [line for line in ok.stderr.splitlines() if line.startswith("progress: ")]
    assert h.keyed(h.jsonl_rows(work / "media.jsonl"), h.MEDIA_KEY) == h.media_truth(
        [PLAN], ["dy_a", "dy_b", "dy_c"], 3)
    printed = (ok.stdout + ok.stderr + bad.stdout + bad.stderr).encode()
    written = files_text(work)
    secrets = [CLIENT_SECRET, "wrong-" + CLIENT_SECRET, *issued]
    for secret in secrets:
        assert secret.encode() not in printed, "a secret was printed"
        assert secret.encode() not in written, "a secret was written"
    assert {"media.jsonl", "media.jsonl.ckpt"} <= set(os.listdir(work))
