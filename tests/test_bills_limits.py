"""The bill CSV reader against hostile files: work linear in a line's length, a bounded record
(an unclosed quote fails the file at the bound, naming its line), and classic Mac line ends."""

from __future__ import annotations

import pickle
import tracemalloc

import pytest
from test_bills import BIG_ID, HEADER, csv_bytes, read_all, row

from douyin_async.bills.csv_reader import BillCsvReader
from douyin_async.errors import BillFileError, BillRecordTooLongError, InvalidRecordError

CHUNK = 1 << 16


def test_a_feed_copies_only_its_chunk_however_long_the_unfinished_line() -> None:
    # Each feed of a 64 KiB chunk may allocate a few chunks' worth, never the line so far:
    # a reader that copied the unfinished line per chunk is quadratic (a 64 MB line: minutes).
    head = csv_bytes([row(0)])
    line = (",".join(row(1)) + ",").encode() + b"x" * (8 << 20) + b"\r\n"
    reader = BillCsvReader("video", endpoint="/bill.csv", collect=True, max_record=16 << 20)
    reader.feed(head)
    worst = 0
    tracemalloc.start()
    try:
        for at in range(0, len(line), CHUNK):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            records, bad = reader.feed(line[at:at + CHUNK])
            if at + CHUNK < len(line):
                worst = max(worst, tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    assert worst < 8 * CHUNK  # the line so far is up to 128 chunks
    assert not records and [e.index for e in bad] == [2]  # the whole line, read as one row
    assert reader.lines == 3


@pytest.mark.parametrize("collect", [False, True])
def test_an_unclosed_quote_fails_the_file_at_the_bound_naming_its_line(collect: bool) -> None:
    limit = 1 << 16
    reader = BillCsvReader("video", endpoint="/bill.csv", collect=collect, max_record=limit)
    first, _ = reader.feed(csv_bytes([row(0)]) + (",".join(row(1)) + ',"open\n').encode())
    assert [r.video_id for r in first] == [BIG_ID]
    filler = b"x" * 1000 + b"\n"
    fed = 0
    with pytest.raises(BillRecordTooLongError) as caught:
        while fed < 10 * limit:
            reader.feed(filler)
            fed += len(filler)
    assert fed <= limit  # refused once the held text passed the bound, not at the end
    error = caught.value
    assert isinstance(error, BillFileError)
    assert error.line == 3 and error.limit == limit and error.endpoint == "/bill.csv"
    assert "line 3" in str(error) and str(limit) in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert (again.line, again.limit) == (3, limit)


def test_a_complete_line_over_the_bound_is_refused_too() -> None:
    data = csv_bytes([row(0), row(1) + ["y" * 5000], row(2)])
    with pytest.raises(BillRecordTooLongError) as caught:
        read_all(data, size=len(data), max_record=4096)
    assert caught.value.line == 3
    records, bad, _ = read_all(data, collect=True, max_record=8192)
    assert len(records) == 2 and bad[0].index == 2  # within the bound: a bad row (9 cells)


@pytest.mark.parametrize("size", [1, 2, 3, 64, 1 << 20])
def test_cr_only_line_ends_are_read_row_by_row(size: int) -> None:
    header = [*HEADER, "备注"]
    rows = [[*row(i), "plain"] for i in range(5)]
    rows[2][-1] = '"two\rlines, ""quoted"""'
    data = csv_bytes(rows, header=header, newline="\r")
    records, bad, reader = read_all(data, size=size)
    assert not bad and reader.rows == 5 and reader.lines == 7
    assert [r.video_id - BIG_ID for r in records] == [0, 1, 2, 3, 4]
    assert records[2].extra["备注"] == 'two\rlines, "quoted"'


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_end_gives_the_same_records_in_any_chunking(newline: str) -> None:
    header = [*HEADER, "备注"]
    rows = [[*row(i), f'"a{newline}b"' if i % 2 else "c"] for i in range(4)]
    data = csv_bytes(rows, header=header, newline=newline)
    expected = None
    for size in (1, 5, 17, len(data)):
        records, bad, reader = read_all(data, size=size)
        assert not bad and reader.rows == 4
        expected = expected or records
        assert records == expected
    assert expected is not None and expected[1].extra["备注"] == f"a{newline}b"


def test_a_bad_row_after_a_long_quoted_field_keeps_its_number() -> None:
    short = [*row(1)[:-2], '"' + "q\n" * 100 + '"']
    data = csv_bytes([row(0), short, row(2)])
    records, bad, _ = read_all(data, size=7, collect=True)
    assert [r.video_id - BIG_ID for r in records] == [0, 2]
    assert [(e.index, e.field) for e in bad] == [(2, "(row)")]
    assert isinstance(bad[0], InvalidRecordError)
