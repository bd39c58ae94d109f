"""The secrets the process knows (access tokens, app secrets, refresh tokens), and the one
function that takes them out of text built from a server's answers.

A server can echo what it was sent: the token in a 5xx body, an `err_msg`, a `log_id` or a
record. Every [`DouyinError`][douyin_async.errors.DouyinError] passes its message, arguments
and fields through [`scrub`][douyin_async.http.redact.scrub] as they are set, so no message,
`repr` or log line built from an error shows a known secret: each is replaced by
[`MASK`][douyin_async.http.redact.MASK], and so is a secret's start cut off at the end of a text (a
quoted body cut to its first characters). The client registers the tokens it sends and the
providers the secrets they hold; [`register_secret`][douyin_async.http.redact.register_secret]
adds others.
"""

from __future__ import annotations

from typing import Any

#: What a secret is replaced with.
MASK = "***"
#: Values shorter than this are not treated as secrets (they would mask ordinary text).
MIN_SECRET = 8
#: The most secrets kept: the most recent ones (a renewing provider adds one a renewal).
MAX_SECRETS = 256
#: The shortest start of a secret masked at the end of a text.
MIN_TAIL = 6

_secrets: dict[str, None] = {}


def register_secret(value: object) -> None:
    """Remember `value` as a secret (ignored unless a string of at least `MIN_SECRET`)."""
    if not isinstance(value, str) or len(value) < MIN_SECRET:
        return
    if _secrets and next(reversed(_secrets)) == value:
        return  # the most recent already
    _secrets.pop(value, None)
    _secrets[value] = None
    while len(_secrets) > MAX_SECRETS:
        del _secrets[next(iter(_secrets))]


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    _secrets.clear()


def _text(text: str) -> str:
    for secret in reversed(_secrets):
        if secret in text:
            text = text.replace(secret, MASK)
        # The longest end of the text that starts the secret (a quote cut inside it).
        at = text.find(secret[0], max(0, len(text) - len(secret) + 1))
        while at != -1 and len(text) - at >= MIN_TAIL:
            if secret.startswith(text[at:]):
                text = text[:at] + MASK
                break
            at = text.find(secret[0], at + 1)
    return text


def scrub(value: Any) -> Any:
    """`value` with every known secret masked: in a string, or in the strings, keys and
    values of lists, tuples and dicts (a raw record); other values as they are."""
    if not _secrets:
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, tuple):
        return tuple(scrub(v) for v in value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


__all__ = ["MASK", "forget_secrets", "register_secret", "scrub"]
