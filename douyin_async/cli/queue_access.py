"""The apps of a spread sync as one process knows them: from `--apps FILE`, or the one app of
`--access-token-file` or the environment (its name empty). Secrets stay in the process: a
unit names its app only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..auth import TokenProvider
from ..queue.load import AppAccess
from .apps import AppSpec, load_apps
from .credentials import app_token_source, held_quota_name, token_source
from .exits import APPS, CliError
from .identity import _source


def _quota(access: str | TokenProvider) -> str:
    """The quota name a pull of the same app uses (see
    [`held_quota_name`][douyin_async.cli.credentials.held_quota_name])."""
    return held_quota_name(access) or "environment"


def _from_spec(app: AppSpec, base_url: str, rate: float) -> AppAccess:
    access = app_token_source(app, base_url)
    label = f"app {app.name} (client key {app.client_key})" if app.client_key \
        else f"app {app.name}"
    return AppAccess(app.name, access, app.rate or rate, app.quota_name, label)


def accesses(apps_file: str | None, token_file: str | None, rate: float,
             base_url: str, sandbox_token: str | None = None) -> list[AppAccess]:
    """Every app this process knows, for `base_url`."""
    if apps_file is not None:
        return [_from_spec(app, base_url, rate) for app in load_apps(apps_file)]
    if sandbox_token is not None:
        return [AppAccess("", sandbox_token, rate, _quota(sandbox_token), "sandbox token")]
    access = token_source(token_file, base_url)
    return [AppAccess("", access, rate, _quota(access), _source(access, token_file))]


def resolver(apps_file: str | None, token_file: str | None, rate: float
             ) -> Callable[[str, str], AppAccess]:
    """Credentials by app name and server, made once each (a renewing token is shared by
    every unit of its app)."""
    made: dict[tuple[str, str], AppAccess] = {}
    specs = {a.name: a for a in load_apps(apps_file)} if apps_file is not None else None

    def access(app: str, base_url: str) -> AppAccess:
        key = (app, base_url)
        if key not in made:
            if specs is None:
                if app:
                    raise CliError(f"a unit of app {app!r}: this worker has no --apps file",
                                   APPS)
                made[key] = accesses(None, token_file, rate, base_url)[0]
            elif app not in specs:
                raise CliError(f"a unit of app {app!r}, which this worker's --apps file does "
                               "not list", APPS)
            else:
                made[key] = _from_spec(specs[app], base_url, rate)
        return made[key]

    return access


class Limiters:
    """One shared limiter per quota name (`redis` None: none), called as
    `limiters(quota, rate)`; `aclose()` waits for the pauses and turns they are still writing
    to Redis, before the caller closes its Redis client (else a pause learned in a run's last
    moments would never reach the other processes)."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._made: dict[str, Any] = {}

    def __call__(self, quota: str, rate: float) -> Any:
        if self._redis is None:
            return None
        if quota not in self._made:
            from .shared_quota import redis_limiter

            self._made[quota] = redis_limiter(self._redis, quota, rate)
        return self._made[quota]

    async def aclose(self) -> None:
        """Close every limiter made (the Redis client is the caller's)."""
        for limiter in self._made.values():
            await limiter.aclose()


def limiters(redis: Any) -> Limiters:
    """The shared limiters of one process (see
    [`Limiters`][douyin_async.cli.queue_access.Limiters])."""
    return Limiters(redis)


__all__ = ["Limiters", "accesses", "limiters", "resolver"]
