"""The sandbox's command line: options, help and start-up text, and its module structure."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from douyin_async.sandbox import CLIENT_KEY, CLIENT_SECRET, STATIC_TOKEN, SandboxConfig
from douyin_async.sandbox.options import add_arguments, args_from_config, config_from_args

SANDBOX = Path(__file__).resolve().parent.parent / "douyin_async" / "sandbox"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_realistic_and_bill_options_round_trip() -> None:
    config = config_from_args(parse(["--realistic", "--bill-rows", "12", "--bill-live-rows",
                                     "3", "--bill-encoding", "gb18030",
                                     "--bill-link-lifetime", "60", "--bill-no-ranges",
                                     "--bill-cut-after", "1000", "--bill-cut-rate", "0.1",
                                     "--bill-error-rate", "0.2", "--bill-fault-limit", "3"]))
    assert config.realism == "realistic" and config.realistic
    assert (config.bill_rows, config.bill_live_rows, config.bill_encoding) == (12, 3, "gb18030")
    assert (config.bill_link_lifetime, config.bill_ranges) == (60, False)
    assert (config.bill_cut_after, config.bill_cut_rate) == (1000, 0.1)
    assert (config.bill_error_rate, config.bill_fault_limit) == (0.2, 3)
    assert config_from_args(parse(args_from_config(config))) == config
    assert config_from_args(parse([])) == SandboxConfig()


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from douyin_async.cli import main as cli_main
    from douyin_async.sandbox.cli import main as sandbox_main

    if argv[0] == "-m":
        with pytest.raises(SystemExit) as exited:
            sandbox_main(argv[1:])
        assert exited.value.code == 0
    else:
        assert cli_main(argv) == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("argv", [["sandbox", "--help"], ["-m", "--help"]])
def test_help_names_the_port_and_the_credentials(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(argv, capsys)
    for needle in ("8080", STATIC_TOKEN, CLIENT_KEY, CLIENT_SECRET, "--realistic"):
        assert needle in text


def test_start_prints_the_port_and_the_credentials() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "douyin_async.sandbox", "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    url = lines[0].split()[-1]
    assert lines[1] == f"port: {url.rsplit(':', 1)[1]}\n"
    assert lines[2] == f"access token: {STATIC_TOKEN}\n"
    assert lines[3].split() == ["client", "key:", CLIENT_KEY, "secret:", CLIENT_SECRET]


def _imports(path: Path) -> set[str]:
    """The sandbox modules a module imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_the_sandbox_modules_import_no_cycle() -> None:
    graph = {p.stem: _imports(p) for p in SANDBOX.glob("*.py") if p.stem != "__init__"}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            raise AssertionError(f"import cycle: {' -> '.join([*path, node])}")
        if state.get(node) == 2 or node not in graph:
            return
        state[node] = 1
        for child in sorted(graph[node]):
            visit(child, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        visit(module, [])


def test_building_the_command_line_does_not_load_the_server() -> None:
    code = ("import sys; from douyin_async.cli import main; main(['pull', '--help']); "
            "print(sorted(m for m in ('aiohttp.web', 'douyin_async.sandbox.server', "
            "'douyin_async.sandbox.app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
