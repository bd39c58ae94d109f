"""The package's public face: every name of `__all__` importable, Redis only on demand, and
the version read from the installed metadata."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import douyin_async


def test_every_public_name_is_importable_from_the_package() -> None:
    missing = [name for name in douyin_async.__all__ if not hasattr(douyin_async, name)]
    assert missing == []
    assert "RedisRateLimiter" in douyin_async.__all__ and "RedisRateLimiter" in dir(douyin_async)
    from douyin_async import RedisRateLimiter
    from douyin_async.pacing.redis_limiter import RedisRateLimiter as Where

    assert RedisRateLimiter is Where


def test_the_package_imports_without_redis_and_names_the_extra_on_use() -> None:
    """With redis-py missing, `import douyin_async` works and loads no Redis module; asking
    for `RedisRateLimiter` raises the ImportError that names the extra."""
    script = """
import sys
sys.modules["redis"] = None
sys.modules["redis.asyncio"] = None
sys.modules["redis.exceptions"] = None
import douyin_async
assert "douyin_async.pacing.redis_limiter" not in sys.modules
try:
    douyin_async.RedisRateLimiter
except ImportError as exc:
    print("refused:", exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "douyin-async[redis]" in done.stdout


def test_the_version_is_the_installed_metadata_and_written_nowhere_else() -> None:
    assert douyin_async.__version__ == importlib.metadata.version("douyin-async")
    source = Path(douyin_async.__file__).read_text()
    assert douyin_async.__version__ not in source
