"""Ways to run the sandbox: pytest fixture, background thread, subprocess, command line."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp
import pytest
from sandbox_helpers import BILLING_DATE, clocked, videos

from douyin_async.sandbox import (
    Sandbox,
    SandboxConfig,
    SubprocessSandbox,
    ThreadedSandbox,
)
from douyin_async.sandbox.cli import (
    add_arguments,
    args_from_config,
    config_from_args,
    serve_forever,
)


async def test_fixture_defaults(douyin_sandbox: Sandbox) -> None:
    assert douyin_sandbox.url.startswith("http://127.0.0.1:")
    assert douyin_sandbox.token == "sandbox-token"
    assert douyin_sandbox.config == SandboxConfig()
    async with aiohttp.ClientSession() as session:
        answer = await videos(session, douyin_sandbox, video_publish_start_time=...,
                              video_publish_end_time=...)
    assert answer["err_no"] == 28001007  # reached the server, which checked the body
    assert len(douyin_sandbox.log) == 1


@pytest.mark.douyin_sandbox(qps=2, key_style="snake")
async def test_fixture_marker(douyin_sandbox: Sandbox) -> None:
    assert (douyin_sandbox.config.qps, douyin_sandbox.config.key_style) == (2, "snake")


@pytest.mark.douyin_sandbox(SandboxConfig(seed=9), latency=0.01)
async def test_fixture_marker_with_base_config(douyin_sandbox: Sandbox) -> None:
    assert (douyin_sandbox.config.seed, douyin_sandbox.config.latency) == (9, 0.01)


@pytest.mark.parametrize("douyin_sandbox", [{"qps": None}, SandboxConfig(seed=4)],
                         indirect=True)
async def test_fixture_parametrised(douyin_sandbox: Sandbox) -> None:
    assert douyin_sandbox.config in (SandboxConfig(qps=None), SandboxConfig(seed=4))


def test_threaded_sandbox_sync() -> None:
    config, _ = clocked()
    with ThreadedSandbox(config) as sb:
        url = sb.url

        async def call() -> dict[str, Any]:
            async with aiohttp.ClientSession() as session:
                return await videos(session, sb, page_size=3)

        answer = asyncio.run(call())
        assert answer["err_no"] == 0 and len(answer["data"]["video_daily_data_list"]) == 3
        assert sb.log.counts() == {"ok": 1}
        assert sb.data is not None and sb.config is config and sb.token == "sandbox-token"
    with pytest.raises(RuntimeError):
        _ = sb.url
    assert url.startswith("http://127.0.0.1:")


async def test_threaded_sandbox_async() -> None:
    config, _ = clocked()
    async with ThreadedSandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = await videos(session, sb, page_size=2)
        assert answer["err_no"] == 0


def test_threaded_sandbox_reports_a_busy_port() -> None:
    with ThreadedSandbox() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            ThreadedSandbox(port=port).start()


async def test_subprocess_sandbox() -> None:
    config = SandboxConfig(seed=5, key_style="snake")
    now = int(time.time())
    async with SubprocessSandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = await videos(session, sb, page_size=4,
                              video_publish_start_time=now - 3 * 86400,
                              video_publish_end_time=now - 2 * 86400)
    records = answer["data"]["video_daily_data_list"]
    assert len(records) == 4 and "video_id" in records[0]
    assert records == sb.data.task_video_page(BILLING_DATE, now - 3 * 86400, now - 2 * 86400,
                                              page_size=4)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_arguments() -> None:
    default = config_from_args(parse([]))
    assert default == SandboxConfig()
    config = config_from_args(parse(["--qps", "0", "--seed", "3", "--latency", "0.3",
                                     "--jitter", "0.1", "--fault-rate", "0.1",
                                     "--reset-rate", "0.02", "--key-style", "snake"]))
    assert (config.qps, config.seed, config.latency, config.jitter) == (None, 3, 0.3, 0.1)
    assert config.reset_rate == 0.02
    assert config.server_error_rate == pytest.approx(0.03)
    assert config.key_style == "snake"
    round_trip = config_from_args(parse(args_from_config(config)))
    assert round_trip == config


async def test_serve_forever_prints_url_and_token(capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(serve_forever(SandboxConfig(), "127.0.0.1", 0))
    out = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        out += capsys.readouterr().out
        if "sandbox-token" in out:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "http://127.0.0.1:" in out and "sandbox-token" in out


async def test_sandbox_lifecycle_errors() -> None:
    sb = Sandbox(clocked()[0])
    with pytest.raises(RuntimeError):
        _ = sb.url
    async with sb:
        with pytest.raises(RuntimeError):
            await sb.start()
    await sb.close()
