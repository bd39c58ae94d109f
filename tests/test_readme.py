"""The README cannot rot: every code block of it runs, and its exit-code table is the code's.

The blocks follow the scheme of ``tests/docs_examples.py``. Python blocks run with
``DOUYIN_BASE_URL`` and ``DOUYIN_ACCESS_TOKEN`` pointing at a sandbox (the README's example
reads its server and token from there, as a deployment would); console blocks use
``--sandbox``. The exit-code tables between ``<!-- exit-codes ... -->`` and
``<!-- /exit-codes -->`` (README, batch-pulls page) are made from ``douyin_async/cli/exits.py``:
``python tests/test_readme.py`` writes them again.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from docs_examples import DOCS, EXECUTABLE_LANGS, ROOT, PageContext, blocks, run_blocks

from douyin_async.cli.exits import markdown_table
from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.server import ThreadedSandbox

README = ROOT / "README.md"
#: Pages that hold the generated exit-code table.
TABLE_PAGES = (README, DOCS / "batch-pulls.md")
_TABLE = re.compile(r"(<!-- exit-codes[^>]*-->\n)(.*?)(<!-- /exit-codes -->)", re.S)


def with_table(text: str) -> str:
    """``text`` with its exit-code table made again from the code."""
    return _TABLE.sub(lambda m: m[1] + "\n" + markdown_table() + "\n" + m[3], text)


@pytest.mark.parametrize("page", TABLE_PAGES, ids=lambda p: p.name)
def test_the_exit_code_table_is_the_codes(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert len(_TABLE.findall(text)) == 1, f"{page.name}: no exit-code table markers"
    assert text == with_table(text), (
        f"{page.name}: the exit-code table differs from douyin_async/cli/exits.py; "
        "run `python tests/test_readme.py` to write it again")


def test_every_block_of_the_readme_runs() -> None:
    found = blocks(README)
    assert found, "no code blocks"
    for block in found:
        assert block.not_run is None, f"{block.where}: every README block runs"
        assert block.lang in EXECUTABLE_LANGS or block.file or block.output, (
            f"{block.where}: a ```{block.lang} block is not run; make it python or console, "
            "or say it in prose")
    assert sum(b.lang == "python" and not b.file for b in found) >= 1
    assert sum(b.lang == "console" for b in found) >= 2


@pytest.mark.slow
def test_the_readme_examples(tmp_path: Path) -> None:
    with ThreadedSandbox(SandboxConfig()) as sandbox, PageContext(tmp_path):
        os.environ["DOUYIN_BASE_URL"] = sandbox.url  # PageContext restores the environment
        os.environ["DOUYIN_ACCESS_TOKEN"] = sandbox.token
        run_blocks(blocks(README), tmp_path)
        assert sandbox.log, "the python example did not reach the sandbox"


def test_the_first_example_takes_its_dates_from_today() -> None:
    first = next(b for b in blocks(README) if b.lang == "python")
    assert not re.search(r"\b1[6-9]\d{8}\b|20\d\d-\d\d-\d\d", first.source), (
        f"{first.where}: a fixed date or unix time goes stale within 90 days")


if __name__ == "__main__":
    for page in TABLE_PAGES:
        page.write_text(with_table(page.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the exit-code table of {page.relative_to(ROOT)}", file=sys.stderr)
