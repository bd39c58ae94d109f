"""The ``--apps FILE`` of a pull: many apps, each with its own credentials and quota.

The file is TOML when its name ends in ``.toml`` and JSON otherwise. It lists apps under
``apps`` (a JSON file may also be a bare list), for example:

    [[apps]]
    name = "shop-a"                       # required: letters, digits, . _ - @ :
    client_key = "aw..."                  # client credentials (renewed client tokens), or
    client_secret = "..."
    rate = 5                              # optional: this app's requests per second

    [[apps]]
    name = "shop-b"
    access_token_file = "shop-b.token"    # a fixed token read from a file (relative paths
                                          # are relative to the apps file), or
    # access_token = "..."                # the fixed token itself

Every app needs exactly one kind of credentials. Names must be unique, and no two apps may
share a client key or a token (they would be the same app pulled twice, over its cap).

Every problem is a [`CliError`][douyin_async.cli.exits.CliError] with the exit code
[`APPS`][douyin_async.cli.exits.APPS]. Messages name the file, the app and the key; they never
hold a token or a secret.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from typing import Any

import attrs

from .exits import APPS, CliError, read_text

#: The keys an app entry may have.
KEYS = ("name", "access_token", "access_token_file", "client_key", "client_secret", "rate")
_NAME = re.compile(r"^[\w.@:-]{1,64}$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_]{1,40}$")


@attrs.frozen
class AppSpec:
    """One app of an apps file. The token and the secret are left out of its ``repr``."""

    name: str
    access_token: str | None = attrs.field(default=None, repr=False)
    client_key: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    rate: float | None = None

    @property
    def quota_name(self) -> str:
        """The name of the app's shared quota: its client key when known, else its name."""
        return self.client_key or self.name


class _Problem(Exception):
    """A problem with one app entry (the caller adds the file and the app)."""


def _fail(path: str, message: str) -> CliError:
    return CliError(f"apps file {path!r}: {message}", APPS)


def _parse(path: str, text: str) -> Any:
    if path.lower().endswith(".toml"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _fail(path, f"not valid TOML ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Position only: the message of a JSON error never quotes the document.
        raise _fail(path, f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})"
                    ) from None


def _text(entry: dict[str, Any], key: str) -> str | None:
    if key not in entry:
        return None
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{key} must be a non-empty string")
    return value.strip()


def _read_token(base: str, value: str) -> str:
    path = value if os.path.isabs(value) else os.path.join(base, value)
    token = read_text(path, lambda reason: _Problem(
        f"cannot read access_token_file {value!r}: {reason}")).strip()
    if not token:
        raise _Problem(f"access_token_file {value!r} is empty")
    return token


def _app(entry: Any, base: str) -> AppSpec:
    if not isinstance(entry, dict):
        raise _Problem("each app must be a table / an object")
    unknown = [k for k in entry if k not in KEYS]
    if unknown:
        shown = ", ".join(repr(k) for k in unknown if isinstance(k, str) and _PLAIN_KEY.match(k))
        raise _Problem(f"unknown key {shown or '(not shown)'}; known keys: {', '.join(KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _Problem("needs a name of 1 to 64 letters, digits, '.', '_', '-', '@' or ':'")
    token = _text(entry, "access_token")
    token_file = _text(entry, "access_token_file")
    key = _text(entry, "client_key")
    secret = _text(entry, "client_secret")
    kinds = [token is not None, token_file is not None, key is not None or secret is not None]
    if sum(kinds) != 1:
        raise _Problem("give exactly one of access_token, access_token_file, or client_key "
                       "with client_secret")
    if (key is None) != (secret is None):
        raise _Problem("client_key and client_secret go together")
    if key is not None and ("{" in key or "}" in key):
        raise _Problem("client_key must not contain braces")
    if token_file is not None:
        token = _read_token(base, token_file)
    rate = entry.get("rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)
                             or not 0 < rate < math.inf):
        raise _Problem("rate must be a positive number of requests per second")
    return AppSpec(name=name, access_token=token, client_key=key, client_secret=secret,
                   rate=None if rate is None else float(rate))


def load_apps(path: str) -> tuple[AppSpec, ...]:
    """The apps a file lists, checked (see the module docstring for the format)."""
    text = read_text(path, lambda reason: _fail(path, f"cannot read it: {reason}"))
    document = _parse(path, text)
    entries = document.get("apps") if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - {"apps"}:
        raise _fail(path, "the only top-level key is 'apps'")
    if not isinstance(entries, list):
        raise _fail(path, "expected a list of apps under 'apps'")
    if not entries:
        raise _fail(path, "lists no apps")
    base = os.path.dirname(os.path.abspath(path))
    apps: list[AppSpec] = []
    for number, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"app {name!r}" if isinstance(name, str) and _NAME.match(name) \
            else f"app #{number}"
        try:
            apps.append(_app(entry, base))
        except _Problem as exc:
            raise _fail(path, f"{label}: {exc}") from None
    names: set[str] = set()
    owners: dict[tuple[str, str], str] = {}  # (kind, credential) -> the app that has it
    for app in apps:
        if app.name in names:
            raise _fail(path, f"app name {app.name!r} appears twice")
        names.add(app.name)
        for what, value in (("client key", app.client_key), ("access token", app.access_token)):
            if value is None:
                continue
            first = owners.setdefault((what, value), app.name)
            if first != app.name:
                raise _fail(path, f"apps {first!r} and {app.name!r} have the same {what}")
    return tuple(apps)


__all__ = ["KEYS", "AppSpec", "load_apps"]
