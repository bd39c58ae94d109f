"""Answers read within limits: bytes off the wire and bytes after decompression are counted as
they arrive, and reading stops as soon as either passes its limit.

The transport reads bodies undecoded (no automatic decompression) and inflates them here, a
bounded piece at a time, so that neither a huge answer nor a small compressed one that inflates
to gigabytes is ever held in memory: past the limit the read ends with
[`AnswerTooLargeError`][douyin_async.errors.AnswerTooLargeError]. Only `gzip` and `deflate`
are asked for and accepted; an answer in another encoding is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from ..errors import AnswerTooLargeError, ResponseDecodeError

#: The default limit of an API or token answer, in bytes, both as read and once decompressed:
#: well above the largest legal page (10,000 task-video records, about 6 MB).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: The default limit of a bill file, in bytes (read and decompressed).
MAX_BILL_FILE_BYTES = 4 * 1024 * 1024 * 1024
#: The encodings the transport asks for (and the only ones it decodes).
ACCEPT_ENCODING = "gzip, deflate"
#: Bytes of output per decompression step.
_PIECE = 1024 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS,
          "deflate": 32 + zlib.MAX_WBITS}


def too_large(limit: int, what: str, endpoint: str, status: int) -> AnswerTooLargeError:
    """The error of an answer past `limit` bytes (`what`: as read, or decompressed)."""
    error = AnswerTooLargeError(f"answer over the limit of {limit:,} bytes ({what})",
                                http_status=status, endpoint=endpoint)
    error.limit = limit
    return error


class BoundedBody:
    """One answer's body: fed the bytes read, gives back the decoded bytes, within `limit`.

    `encoding` is the answer's `Content-Encoding`; `declared` its `Content-Length` (an answer
    that announces more than the limit is refused before anything is read).
    """

    def __init__(self, encoding: str, limit: int, *, endpoint: str, status: int,
                 declared: str | None = None) -> None:
        self.limit = limit
        self.endpoint = endpoint
        self.status = status
        #: Bytes read off the wire, and bytes handed out after decompression.
        self.read = 0
        self.size = 0
        name = encoding.strip().lower()
        if name not in ("", "identity") and name not in _WBITS:
            raise ResponseDecodeError(f"answer in an encoding not asked for ({name[:40]!r})",
                                      http_status=status, snippet="", endpoint=endpoint)
        self._wbits = _WBITS.get(name)
        self._inflate = zlib.decompressobj(self._wbits) if self._wbits else None
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise too_large(limit, "announced", endpoint, status)

    def _out(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.size > self.limit:
            raise too_large(self.limit, "decompressed", self.endpoint, self.status)
        return piece

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded bytes of `chunk`, in pieces of at most a MiB."""
        self.read += len(chunk)
        if self.read > self.limit:
            raise too_large(self.limit, "as read", self.endpoint, self.status)
        if self._inflate is None:
            yield self._out(chunk)
            return
        data = chunk
        while data:
            try:
                piece = self._inflate.decompress(data, min(_PIECE, self.limit - self.size + 1))
            except zlib.error:
                raise ResponseDecodeError("answer is not valid compressed data",
                                          http_status=self.status, snippet="",
                                          endpoint=self.endpoint) from None
            data = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:  # another gzip member
                data = self._inflate.unused_data + data
                assert self._wbits is not None
                self._inflate = zlib.decompressobj(self._wbits)
            if piece:
                yield self._out(piece)

    def finish(self) -> None:
        """Check that a compressed body ended where its data does (a cut one is retried)."""
        if self._inflate is not None and not self._inflate.eof and self.read:
            raise ResponseDecodeError("answer cut short (compressed data ends early)",
                                      http_status=self.status, snippet="",
                                      endpoint=self.endpoint, retryable=True)


__all__ = ["ACCEPT_ENCODING", "MAX_ANSWER_BYTES", "MAX_BILL_FILE_BYTES", "BoundedBody",
           "too_large"]
