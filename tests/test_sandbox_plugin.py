"""The pytest plugin is opt-in: installing the library never changes another project's pytest.

The fresh-venv tests install the project with ``--no-deps`` into a new virtual environment
(no system site-packages) together with pytest only, then with the runtime dependencies but
without pytest-asyncio, and run pytest on a tiny project there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from douyin_async.sandbox import SandboxConfig, ThreadedSandbox
from douyin_async.testing import NEEDS_PYTEST_ASYNCIO

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ["aiohttp", "attrs", "cattrs", "aiolimiter", "orjson", "msgspec"]


@pytest.mark.douyin_sandbox(seed=8, bill_rows=3)
def test_threaded_fixture_needs_no_event_loop(douyin_threaded_sandbox: ThreadedSandbox) -> None:
    assert douyin_threaded_sandbox.config == SandboxConfig(seed=8, bill_rows=3)
    assert douyin_threaded_sandbox.url.startswith("http://127.0.0.1:")


def test_no_pytest_entry_point_is_registered() -> None:
    from importlib.metadata import entry_points

    assert [e for e in entry_points(group="pytest11") if e.value.startswith("douyin_async")] == []
    assert "pytest11" not in (ROOT / "pyproject.toml").read_text()


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON"))}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _pip(python: Path, *args: str) -> None:
    done = _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv holding the project (no dependencies) and pytest; its python."""
    base = tmp_path_factory.mktemp("fresh")
    source = base / "src"
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name if source.exists() else _mkdir(source) / name)
    shutil.copytree(ROOT / "douyin_async", source / "douyin_async",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    done = _run(sys.executable, "-m", "venv", base / "venv")
    assert done.returncode == 0, done.stderr
    python = base / "venv" / "bin" / "python"
    _pip(python, "--no-deps", str(source))
    _pip(python, "pytest")
    project = _mkdir(base / "project")
    (project / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    yield python


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.slow
def test_pytest_in_another_project_is_untouched(fresh_venv: Path) -> None:
    done = _run(fresh_venv, "-c", "import pytest_asyncio")
    assert done.returncode != 0  # the environment really lacks the test extra
    project = fresh_venv.parent.parent.parent / "project"
    done = _run(fresh_venv, "-m", "pytest", "-q", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


@pytest.mark.slow
def test_opting_in_without_pytest_asyncio_says_what_to_install(fresh_venv: Path) -> None:
    _pip(fresh_venv, *RUNTIME)
    project = fresh_venv.parent.parent.parent / "project"
    (project / "test_sandbox.py").write_text(
        "def test_threaded(douyin_threaded_sandbox):\n"
        "    assert douyin_threaded_sandbox.token == 'sandbox-token'\n\n"
        "async def test_async(douyin_sandbox):\n"
        "    pass\n")
    done = _run(fresh_venv, "-m", "pytest", "-q", "-p", "douyin_async.testing",
                "test_sandbox.py", cwd=project)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "1 passed" in output and "1 error" in output
    assert "pip install 'pytest-asyncio>=1.0'" in output
    assert " ".join(NEEDS_PYTEST_ASYNCIO.split()[:6]) in " ".join(output.split())
