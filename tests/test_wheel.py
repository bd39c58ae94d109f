"""The install the README describes works: `python -m build` makes a wheel, and that wheel,
installed into a fresh virtual environment, runs a pull against the built-in sandbox."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON"))}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _copy_source(target: Path) -> Path:
    """The files a build reads, without the checkout's caches and virtual environments."""
    for name in ("pyproject.toml", "README.md", "douyin_async_cli.py"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "douyin_async", target / "douyin_async",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return target


def test_the_built_wheel_installs_and_pulls_from_the_sandbox(tmp_path: Path) -> None:
    source = _copy_source(tmp_path)
    built = _run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", source)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheels = list((tmp_path / "dist").glob("douyin_async-*.whl"))
    assert len(wheels) == 1, wheels
    names = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(wheels[0])],
                           capture_output=True, text=True, check=True).stdout
    for shipped in ("douyin_async/py.typed", "douyin_async/bills/columns.json"):
        assert shipped in names

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, command = venv / "bin" / "python", venv / "bin" / "douyin-async"
    installed = _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                     wheels[0])
    assert installed.returncode == 0, installed.stderr[-2000:]

    version = _run(python, "-c", "import douyin_async, importlib.metadata as m; "
                   "print(douyin_async.__version__, m.version('douyin-async'))")
    assert version.returncode == 0, version.stderr
    ours, metadata = version.stdout.split()
    assert ours == metadata

    today = dt.date.today()
    out = tmp_path / "videos.jsonl"
    pulled = _run(command, "pull", "task-videos", "--sandbox",
                  "--billing-date", str(today - dt.timedelta(days=1)),
                  "--published-from", str(today - dt.timedelta(days=6)),
                  "--published-to", str(today - dt.timedelta(days=1)),
                  "--out", out, cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr[-2000:]
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert rows and all(row["video_id"] for row in rows)
