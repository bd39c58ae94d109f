"""The exception hierarchy and its code table."""

from __future__ import annotations

import pickle

import pytest

import douyin_async as da
from douyin_async.errors import CODE_TO_ERROR, error_for_code


def test_hierarchy() -> None:
    for cls in (da.RateLimitedError, da.QuotaExceededError, da.AuthenticationError,
                da.PermissionDeniedError, da.InvalidRequestError, da.ServerError):
        assert issubclass(cls, da.ApiError)
    for cls in (da.ApiError, da.TransportError, da.ResponseDecodeError,
                da.InvalidParameterError):
        assert issubclass(cls, da.DouyinError)
    assert issubclass(da.InvalidParameterError, ValueError)


@pytest.mark.parametrize(("code", "name"), [
    (28003018, "RateLimitedError"), (28003017, "QuotaExceededError"),
    (2190001, "QuotaExceededError"), (28001003, "AuthenticationError"),
    (28001008, "AuthenticationError"), (2190002, "AuthenticationError"),
    (2190008, "AuthenticationError"), (28001018, "PermissionDeniedError"),
    (2100007, "PermissionDeniedError"), (28001007, "InvalidRequestError"),
    (28013009, "InvalidRequestError"), (28013010, "InvalidRequestError"),
    (28001005, "ServerError"), (28001006, "ServerError"), (2100004, "ServerError"),
])
def test_documented_codes(code: int, name: str) -> None:
    assert CODE_TO_ERROR[code].__name__ == name
    assert type(error_for_code(code, "m")).__name__ == name


def test_unknown_codes() -> None:
    assert type(error_for_code(999, "m")) is da.ApiError
    assert type(error_for_code(999, "m", http_status=503)) is da.ServerError


def test_errors_pickle_with_their_fields() -> None:
    err = error_for_code(2100007, "no", log_id="L", endpoint="/e", sub_code=110003,
                         sub_message="sub")
    err.attempts = 3
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is da.PermissionDeniedError
    assert (back.code, back.log_id, back.sub_code, back.attempts) == (2100007, "L", 110003, 3)
    assert str(back) == str(err)
