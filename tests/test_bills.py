"""The pure parts of the bill-file API: dates, link answers, the header table, the row decoder
and the incremental CSV reader (encodings, split characters, quoting, bad rows)."""

from __future__ import annotations

import datetime as dt
import pickle

import orjson
import pytest

from douyin_async.bills.csv_reader import BillCsvReader, detect_encoding
from douyin_async.bills.links import bill_date_of, decode_bill_links, link_expiry
from douyin_async.bills.records import SHANGHAI, BillFileError, BillRecord
from douyin_async.errors import (
    ApiError,
    InvalidParameterError,
    InvalidRecordError,
    PermissionDeniedError,
    ResponseDecodeError,
)

NOW = dt.datetime(2026, 11, 21, 1, 0, tzinfo=SHANGHAI).timestamp()  # 2026-11-20 17:00 UTC
HEADER = ["账单统计日期", "视频ID", "视频关联的小程序ID", "视频关联的任务ID", "视频发布时间",
          "当日视频产生的交易订单支付金额（单位：分）", "视频结束计费时间", "结算状态"]
BIG_ID = 7270855478333246754


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER,
              newline: str = "\r\n") -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return (newline.join(lines) + newline).encode(encoding)


def row(i: int, status: str = "已结算") -> list[str]:
    return ["2026-11-01", str(BIG_ID + i), "tt0123456789abcdef", str(7000 + i),
            "2026-10-30 12:34:56", str(1999 + i), "2027-04-28 23:59:59", status]


def read_all(data: bytes, size: int = 1 << 16, **kw: object
             ) -> tuple[list[BillRecord], list[InvalidRecordError], BillCsvReader]:
    reader = BillCsvReader("video", endpoint="/bill.csv", **kw)  # type: ignore[arg-type]
    records: list[BillRecord] = []
    bad: list[InvalidRecordError] = []
    for start in range(0, len(data), size):
        got, refused = reader.feed(data[start:start + size])
        records += got
        bad += refused
    got, refused = reader.finish()
    return records + got, bad + refused, reader


# -- dates and links --------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2026-11-22", "2026-11-21"])
def test_bill_dates_from_today_on_are_refused(day: str) -> None:
    # 17:00 UTC on the 20th is already the 21st in Beijing: its file does not exist yet.
    with pytest.raises(InvalidParameterError, match="not over yet"):
        bill_date_of(day, NOW)
    assert bill_date_of("2026-11-20", NOW) == dt.date(2026, 11, 20)


def test_bill_date_older_than_180_days_is_refused() -> None:
    assert bill_date_of(dt.date(2026, 5, 25), NOW) == dt.date(2026, 5, 25)  # 180 days back
    with pytest.raises(InvalidParameterError, match="180 days"):
        bill_date_of(dt.date(2026, 5, 24), NOW)


@pytest.mark.parametrize("value", ["2026/11/01", "20261101", 20261101,
                                   dt.datetime(2026, 11, 1, tzinfo=dt.UTC)])
def test_bill_date_of_other_types_is_refused(value: object) -> None:
    with pytest.raises(InvalidParameterError):
        bill_date_of(value, NOW)


def links_body(**data: object) -> bytes:
    return orjson.dumps({"err_no": 0, "err_msg": "", "log_id": "LOG1", "data": data})


def test_links_answer_decodes_both_links_and_their_expiry() -> None:
    video = "https://h.example/a/b.csv?x-expires=1701064092&x-signature=SIG"
    live = "https://h.example/a/c.csv?x-signature=SIG2&x-expires=1701064100"
    links = decode_bill_links(links_body(bill_link=video, live_bill_link=live),
                              http_status=200, endpoint="/e/", bill_date=dt.date(2023, 11, 27))
    assert links.bill_link == video and links.live_bill_link == live
    assert links.bill_link_expires == dt.datetime(2023, 11, 27, 13, 48, 12, tzinfo=SHANGHAI)
    assert links.bill_link_expires.utcoffset() == dt.timedelta(hours=8)
    assert links.live_bill_link_expires is not None
    assert links.live_bill_link_expires.timestamp() == 1701064100
    assert links.log_id == "LOG1"
    assert "SIG" not in repr(links)


def test_links_answer_without_live_link() -> None:
    links = decode_bill_links(links_body(bill_link="https://h/x.csv"), http_status=200,
                              endpoint="/e/", bill_date=dt.date(2026, 11, 1))
    assert links.live_bill_link is None and links.bill_link_expires is None
    assert link_expiry("https://h/x.csv?x-expires=soon") is None


def test_links_answer_without_any_link_is_a_shape_error() -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        decode_bill_links(links_body(), http_status=200, endpoint="/e/",
                          bill_date=dt.date(2026, 11, 1))
    assert "no bill_link" in str(caught.value)


def test_links_error_answers_are_typed() -> None:
    body = orjson.dumps({"err_no": 28001018, "err_msg": "no scope", "log_id": "L2"})
    with pytest.raises(PermissionDeniedError) as caught:
        decode_bill_links(body, http_status=200, endpoint="/e/", bill_date=dt.date(2026, 11, 1))
    assert caught.value.log_id == "L2" and caught.value.endpoint == "/e/"
    absurd = orjson.dumps({"err_no": 4667480398268598000, "err_msg": "", "log_id": "L3"})
    with pytest.raises(ApiError) as caught:
        decode_bill_links(absurd, http_status=200, endpoint="/e/",
                          bill_date=dt.date(2026, 11, 1))
    assert caught.value.code == 4667480398268598000


# -- rows -------------------------------------------------------------------------------------


def test_ids_money_and_times_are_exact_and_aware() -> None:
    records, bad, reader = read_all(csv_bytes([row(0)]))
    assert not bad and reader.rows == 1
    record = records[0]
    assert record.video_id == BIG_ID and record.task_id == 7000 and record.gmv_1d == 1999
    assert record.micro_app_id == "tt0123456789abcdef"
    assert record.bill_date == dt.date(2026, 11, 1)
    assert record.publish_time == dt.datetime(2026, 10, 30, 4, 34, 56, tzinfo=dt.UTC)
    assert record.publish_time is not None and record.publish_time.tzname() == "Asia/Shanghai"
    assert record.billing_end_time == dt.datetime(2027, 4, 28, 23, 59, 59, tzinfo=SHANGHAI)
    assert record.refund_gmv_1d is None  # no such column in this file
    assert record.row == 1


def test_bill_records_pickle_with_and_without_extra_columns() -> None:
    plain = read_all(csv_bytes([row(0)[:-1]], header=HEADER[:-1]))[0][0]
    with_extra = read_all(csv_bytes([row(0)]))[0][0]
    assert not plain.extra and with_extra.extra
    for record in (plain, with_extra):
        assert pickle.loads(pickle.dumps(record)) == record


def test_unknown_columns_are_kept_in_extra() -> None:
    header = [*HEADER, "新列"]
    records, _, _ = read_all(csv_bytes([[*row(0), "x"]], header=header))
    assert dict(records[0].extra) == {"结算状态": "已结算", "新列": "x"}


def test_headers_match_with_ascii_or_full_width_brackets_and_blanks() -> None:
    header = [h.replace("（单位：分）", " (单位:分) ") for h in HEADER]
    records, _, _ = read_all(csv_bytes([row(3)], header=header))
    assert records[0].gmv_1d == 2002


def test_a_missing_key_column_is_a_typed_error_naming_it() -> None:
    header = [h for h in HEADER if h != "视频ID"]
    data = csv_bytes([[c for n, c in enumerate(row(0)) if n != 1]], header=header)
    with pytest.raises(BillFileError) as caught:
        read_all(data)
    assert caught.value.missing == ("视频ID",)
    assert "视频ID" in str(caught.value)
    assert pickle.loads(pickle.dumps(caught.value)).missing == ("视频ID",)


def test_a_bad_row_raises_with_its_number_and_raw_cells_after_the_rows_before_it() -> None:
    bad = row(1)
    bad[5] = "12.5"
    data = csv_bytes([row(0), bad, row(2)])
    reader = BillCsvReader("video", endpoint="/bill.csv")
    records, refused = reader.feed(data)
    assert [r.video_id for r in records] == [BIG_ID]
    assert refused and reader.failed is refused[0]
    error = refused[0]
    assert isinstance(error, InvalidRecordError)
    assert error.index == 2 and error.record == bad and error.field == "gmv_1d"
    assert "12.5" in error.reason
    with pytest.raises(InvalidRecordError):
        reader.finish()


def test_collect_mode_hands_bad_rows_back_separately() -> None:
    short = row(1)[:-1]
    empty_key = row(2)
    empty_key[1] = ""
    data = csv_bytes([row(0), short, empty_key, row(3)])
    records, bad, reader = read_all(data, collect=True)
    assert [r.video_id for r in records] == [BIG_ID, BIG_ID + 3]
    assert [(e.index, e.field) for e in bad] == [(2, "(row)"), (3, "video_id")]
    assert "7 cells, the header has 8" in bad[0].reason
    assert reader.rows == 4


@pytest.mark.parametrize("value", ["+5", "5 5", "١٢", "1e3", "true"])
def test_ints_are_never_bent(value: str) -> None:
    bad = row(0)
    bad[5] = value
    _, refused, _ = read_all(csv_bytes([bad]), collect=True)
    assert len(refused) == 1 and refused[0].field == "gmv_1d"


# -- encodings and chunking -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_each_encoding_is_detected_and_read_in_any_chunking(encoding: str) -> None:
    data = csv_bytes([row(i, status="结算中") for i in range(5)], encoding=encoding)
    expected = None
    for size in (1, 2, 3, 5, 64, len(data)):
        records, bad, reader = read_all(data, size=size)
        assert not bad and reader.encoding == encoding
        assert [r.video_id for r in records] == [BIG_ID + i for i in range(5)]
        assert records[0].extra["结算状态"] == "结算中"
        expected = expected or records
        assert records == expected


def test_detection_reads_the_header_line() -> None:
    assert detect_encoding("账单统计日期,视频ID\r\n".encode("gb18030")) == "gb18030"
    assert detect_encoding("账单统计日期,视频ID\r\n".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfa,b\r\n") == "utf-8-sig"
    # A header cut in the middle of a character is still UTF-8.
    assert detect_encoding("账单".encode()[:4]) == "utf-8"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_character_split_across_two_chunks(encoding: str) -> None:
    data = csv_bytes([row(0, status="已冻结")], encoding=encoding)
    char = "冻".encode(encoding)
    at = data.index(char) + 1  # inside the character
    reader = BillCsvReader("video", endpoint="/bill.csv")
    first, _ = reader.feed(data[:at])
    second, _ = reader.feed(data[at:])
    last, _ = reader.finish()
    records = first + second + last
    assert len(records) == 1 and records[0].extra["结算状态"] == "已冻结"


def test_gb18030_four_byte_character_split_across_chunks() -> None:
    text = "\U00020000"  # a 4-byte GB18030 character (CJK extension B)
    header = [*HEADER, "备注"]
    data = csv_bytes([[*row(0), text]], encoding="gb18030", header=header)
    char = text.encode("gb18030")
    assert len(char) == 4
    for cut in (1, 2, 3):
        at = data.index(char) + cut
        reader = BillCsvReader("video", endpoint="/bill.csv")
        records = reader.feed(data[:at])[0] + reader.feed(data[at:])[0] + reader.finish()[0]
        assert records[0].extra["备注"] == text


def test_quoted_fields_with_commas_quotes_and_newlines() -> None:
    header = [*HEADER, "备注"]
    note = '"第一行, ""引号""\r\n第二行\n第三行"'
    data = csv_bytes([[*row(0), note], row(1) + ["plain"]], header=header)
    for size in (1, 7, len(data)):
        records, bad, reader = read_all(data, size=size)
        assert not bad and reader.rows == 2
        assert records[0].extra["备注"] == '第一行, "引号"\r\n第二行\n第三行'
        assert records[1].extra["备注"] == "plain"


def test_blank_lines_are_skipped_and_a_last_row_without_newline_is_read() -> None:
    data = csv_bytes([row(0)]) + b"\r\n\r\n" + ",".join(row(1)).encode()
    records, _, reader = read_all(data)
    assert [r.video_id for r in records] == [BIG_ID, BIG_ID + 1] and reader.rows == 2


def test_an_unclosed_quote_at_the_end_is_a_bad_row() -> None:
    data = csv_bytes([row(0)]) + (",".join(row(1)) + ',"open').encode()
    records, bad, _ = read_all(data, collect=True)
    assert len(records) == 1 and bad[0].index == 2 and "not valid CSV" in bad[0].reason


def test_bytes_that_are_not_the_files_encoding_fail_the_file() -> None:
    data = csv_bytes([row(0), row(1)])
    broken = data[:-10] + b"\xff" + data[-9:]
    with pytest.raises(BillFileError, match=r"offset \d+ are not utf-8 text"):
        read_all(broken, size=16)


def test_skip_rows_passes_over_rows_already_delivered() -> None:
    data = csv_bytes([row(i) for i in range(10)])
    records, _, reader = read_all(data, size=50, skip_rows=7)
    assert [r.video_id - BIG_ID for r in records] == [7, 8, 9] and reader.rows == 10


def test_an_empty_file_is_an_error() -> None:
    with pytest.raises(BillFileError, match="empty"):
        read_all(b"")
