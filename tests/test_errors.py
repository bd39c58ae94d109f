"""The exception hierarchy and its code table."""

from __future__ import annotations

import pickle

import pytest

import douyin_async as da
from douyin_async.http.codes import CODE_TO_ERROR, error_for_code


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


def _all_subclasses(cls: type) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _all_subclasses(sub)
    return out


def test_every_error_of_the_hierarchy_pickles_with_its_fields() -> None:
    from douyin_async import errors as e

    examples: dict[type, da.DouyinError] = {
        e.TransportError: e.TransportError("t", endpoint="/x"),
        e.ResponseDecodeError: e.ResponseDecodeError("r", http_status=502, snippet="s",
                                                     endpoint="/x", retryable=True,
                                                     log_id="L"),
        e.InvalidRecordError: e.InvalidRecordError("bad", field="gmv", reason="float",
                                                   record={"gmv": 1.5}, index=4),
        e.QueueTimeoutError: e.QueueTimeoutError("q", retry_after=1.5, endpoint="/x"),
    }
    for cls in _all_subclasses(da.DouyinError):
        if cls in examples:
            error = examples[cls]
        elif issubclass(cls, da.ApiError):
            error = cls(7, "m", log_id="L", endpoint="/x", http_status=403, sub_code=9,
                        sub_message="s")
        else:
            error = cls("plain")
        error.attempts = 3
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls
        assert back.__dict__ == error.__dict__ and back.args == error.args, cls
        assert str(back) == str(error)


def test_the_code_table_of_the_docs_is_the_code_table() -> None:
    from pathlib import Path

    from douyin_async.http.codes import CODES

    text = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].isdigit():
            rows[int(cells[0])] = cells[2].strip("`")
    assert rows == {code: c.error.__name__ for code, c in CODES.items()}


@pytest.mark.parametrize(("code", "name"), [
    (28001012, "PermissionDeniedError"), (28001014, "PermissionDeniedError"),
    (28001015, "AuthenticationError"), (28001016, "PermissionDeniedError"),
    (28001017, "InvalidRequestError"), (28001019, "PermissionDeniedError"),
    (28001020, "PermissionDeniedError"), (28001021, "PermissionDeniedError"),
    (28001042, "PermissionDeniedError"), (28001045, "PermissionDeniedError"),
    (28001046, "PermissionDeniedError"), (28001047, "PermissionDeniedError"),
    (28001052, "RateLimitedError"), (28001056, "ApiRetiredError"),
    (28004020, "PermissionDeniedError"), (2100009, "PermissionDeniedError"),
    (2190004, "PermissionDeniedError"), (10008, "AuthenticationError"),
])
def test_codes_of_the_common_status_code_page(code: int, name: str) -> None:
    assert type(error_for_code(code, "m")).__name__ == name


def test_risk_control_backs_off_like_a_rate_limit_and_10008_renews() -> None:
    from douyin_async.http.codes import TOKEN_EXPIRED_CODES
    from douyin_async.http.retry import RetryPolicy

    policy = RetryPolicy(random=lambda: 0.0)
    assert policy.delay(error_for_code(28001052, "稍后再试"), 0) == policy.rate_limit_floor
    assert 10008 in TOKEN_EXPIRED_CODES


def test_the_retired_api_points_to_the_bill_file_api() -> None:
    text = str(error_for_code(28001056, "该能力API已下线,不再支持调用"))
    assert "bill_records" in text and "pull bills" in text
