"""What a checkpoint records of where its data came from: the server and the app.

A resumed pull must read the same data set as the run it continues, so the checkpoint records
the server (the base URL, or the embedded sandbox and its seed) and the app, and ``--resume``
refuses a mismatch (exit code 8). The app is its client key when the credentials are a client
key and secret; a fixed access token expires within hours, so a token is recorded by where it
comes from (the token file's path, or ``$DOUYIN_ACCESS_TOKEN``), never by its value: with a
fixed token the command cannot tell two apps apart. Nothing recorded is a secret.
"""

from __future__ import annotations

import os
from typing import Any

from ..auth import TokenProvider, client_key_of
from .spec import PullSpec


def server_identity(spec: PullSpec) -> str:
    """The server of a pull, as the checkpoint records it."""
    if spec.sandbox is not None:
        seed = "default" if spec.sandbox.seed is None else spec.sandbox.seed
        return f"embedded sandbox (seed {seed})"
    return (spec.base_url or "").rstrip("/")


def _source(access: str | TokenProvider | None, token_file: str | None) -> str:
    key = client_key_of(access)
    if key:
        return f"client key {key}"
    if token_file is not None:
        return f"token file {os.path.abspath(token_file)}"
    return "token from $DOUYIN_ACCESS_TOKEN"


def app_identity(spec: PullSpec, access: str | TokenProvider | None) -> Any:
    """The app (or, with ``--apps``, every app by name) of a pull, without secrets."""
    if spec.apps is not None:
        return {app.name: f"client key {app.client_key}" if app.client_key else "token"
                for app in spec.apps}
    if spec.sandbox is not None:
        return "sandbox token"
    return _source(access, spec.access_token_file)


def checkpoint_params(spec: PullSpec, access: str | TokenProvider | None) -> dict[str, Any]:
    """The parameters a checkpoint holds and a resumed pull must match: the query
    parameters, the output's dialect, the server and the app."""
    params = dict(spec.params)
    if spec.fmt in ("csv", "csv.gz"):
        params["csv"] = "plain" if spec.csv_plain else "spreadsheet"
    params["server"] = server_identity(spec)
    params["app"] = app_identity(spec, access)
    return params


__all__ = ["app_identity", "checkpoint_params", "server_identity"]
