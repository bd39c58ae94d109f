"""Destinations by URL (see [`destination`][douyin_async.sync.destination] for what each
does)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .destination import Destination, shown_url
from .errors import DestinationError
from .tables import SyncTable


def open_destination(url: str, table: SyncTable) -> Destination:
    """The destination of `url` for `table` (nothing is opened yet)."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDestination

        return PostgresDestination(url, table)
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteDestination

        return SqliteDestination(url[len("sqlite:///"):], table)
    if url.startswith("file://"):
        path = urlsplit(url).path
    elif "://" in url:
        raise DestinationError(f"unknown destination {shown_url(url)!r}: use postgresql://..., "
                               "sqlite:///FILE, file:///DIR/ or a directory path",
                               destination=shown_url(url))
    else:
        path = url
    from .parquet import ParquetDestination

    return ParquetDestination(path, table)


__all__ = ["open_destination"]
