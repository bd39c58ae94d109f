"""The documentation: every example runs against the sandbox, and the site builds strictly.

How examples are found and run is described in ``tests/docs_examples.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_examples import (
    DOCS,
    EXECUTABLE_LANGS,
    GENERATED,
    REDIS_VAR,
    ROOT,
    SHELL_LANGS,
    Block,
    Command,
    PageContext,
    blocks,
    check_output,
    commands,
    is_python,
    module_used_later,
    pages,
    run_console,
    run_python,
    uses_redis,
    write_file,
)
from redis_server import RedisServer, redis_server_binary

#: The most blocks the pages may mark ``not-run``.
MAX_NOT_RUN = 8

PAGES = list(pages())
EXAMPLE_PAGES = [p for p in PAGES if p.relative_to(DOCS).as_posix() not in GENERATED]
ALL_BLOCKS = [block for page in EXAMPLE_PAGES for block in blocks(page)]


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page)
            if (b.lang in EXECUTABLE_LANGS and b.not_run is None) or b.file or b.output]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server for the pages that use Redis (started on first use)."""
    if redis_server_binary() is None:
        pytest.fail("redis-server is not on PATH: the Redis examples need a real Redis "
                    "(Debian: apt-get install redis-server)")
    with RedisServer() as server:
        yield server.url


@pytest.mark.parametrize(
    "page", [p for p in EXAMPLE_PAGES if _runnable(p)],
    ids=lambda p: p.relative_to(DOCS).as_posix(),
)
def test_examples_run(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Run the page's python and console blocks in order, in one working directory."""
    printed: str | None = None
    with PageContext(tmp_path):
        if uses_redis(page):
            import redis

            url = request.getfixturevalue("redis_url")
            with redis.Redis.from_url(url) as empty:
                empty.flushall()
            os.environ[REDIS_VAR] = url  # PageContext restores the environment
        for block in blocks(page):
            try:
                if block.output:
                    assert printed is not None, f"{block.where}: output of what?"
                    check_output(Command("the example above", tuple(block.source.splitlines())),
                                 printed, block.where)
                    printed = None
                elif block.file is not None:
                    write_file(block, tmp_path)
                elif block.lang == "python" and block.not_run is None:
                    printed = run_python(block, tmp_path)
                elif block.lang == "console" and block.not_run is None:
                    run_console(block, tmp_path)
            except Exception as exc:
                raise AssertionError(f"example at {block.where} failed: {exc}") from exc


def test_the_scheme_is_followed() -> None:
    """Shell blocks are console blocks; python always runs; not-run blocks are few."""
    for page in EXAMPLE_PAGES:
        found = blocks(page)
        for n, block in enumerate(found):
            if block.lang in SHELL_LANGS:
                assert block.not_run is not None, (
                    f"{block.where}: write shell sessions as ```console with '$ ' commands")
            if block.lang == "console" and block.not_run is None:
                commands(block)  # parses
            if block.lang == "python":
                assert block.not_run is None, (
                    f"{block.where}: a python block must run; make it runnable against the "
                    "sandbox, or describe it in prose or a table")
            if block.file is not None:
                assert block.not_run is None and not block.output
                if block.file.endswith(".py"):
                    assert module_used_later(block, found[n + 1:]), (
                        f"{block.where}: no later block uses {block.file}")
            elif block.lang not in EXECUTABLE_LANGS and not block.output:
                assert not is_python(block), (
                    f"{block.where}: this is Python; make it a ```python block that runs")
            if block.lang == "" and not block.not_run:
                pytest.fail(f"{block.where}: give the code block a language")
    not_run = [b for b in ALL_BLOCKS if b.not_run is not None]
    scripts = [b for b in ALL_BLOCKS if b.lang == "python" and b.file is None and not b.not_run]
    files = [b for b in ALL_BLOCKS if b.file is not None]
    sessions = [b for b in ALL_BLOCKS if b.lang == "console" and not b.not_run]
    outputs = [b for b in ALL_BLOCKS if b.output]
    print(f"\ndocs examples: {len(scripts)} python scripts run, {len(files)} files written "
          f"for them, {len(sessions)} console sessions run, {len(outputs)} shown outputs "
          f"checked; {len(not_run)} blocks not run:")
    for block in not_run:
        print(f"  {block.where}: {block.not_run}")
    for name, script in GENERATED.items():
        print(f"  docs/{name}: generated by {script}, no examples")
    assert len(not_run) <= MAX_NOT_RUN, [b.where for b in not_run]
    assert len(scripts) >= 10 and len(sessions) >= 5 and len(outputs) >= 8  # the parser works


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_pages_hold_no_examples(name: str) -> None:
    """A generated page is written by its script and holds nothing that would have to run."""
    page, script = DOCS / name, ROOT / GENERATED[name]
    assert page in PAGES, f"docs/{name} is not a page"
    assert script.is_file(), f"{script} writes docs/{name} but does not exist"
    assert name in script.read_text(encoding="utf-8"), f"{script} does not write docs/{name}"
    for block in blocks(page):
        assert block.lang not in EXECUTABLE_LANGS | SHELL_LANGS, (
            f"{block.where}: a generated page holds results, not examples to run")
        assert not (block.not_run or block.file or block.output), (
            f"{block.where}: markers are lost when the page is generated again")
        assert not is_python(block), f"{block.where}: Python on a generated page"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict``: broken links, anchors and API references fail the build."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # the theme's end-of-life banner
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "WARNING" not in done.stderr, done.stderr
    for page in ["index.html", "quickstart/index.html", "reference/client/index.html"]:
        assert (site / page).is_file(), page
    # Nothing is fetched at run time: no scripts, styles or fonts from other hosts.
    external = re.compile(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["']?(?:https?:)?//""")
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for tag in external.findall(text):
            if "<link" in tag and 'rel="canonical"' in tag:
                continue
            pytest.fail(f"{html.relative_to(site)} loads a resource from the network: {tag}")


#: Packages whose docstrings and ``#:`` comments may hold no raw reST role. The API reference
#: renders the mkdocs cross-reference syntax (``[`Name`][douyin_async.module.Name]``), not
#: ``:class:`Name```; add a package here once it is converted (``douyin_async`` for all).
ROLE_FREE_PACKAGES = ("douyin_async.cli",)
ROLE_FREE_MODULES = ("douyin_async_cli",)
_ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|exc|obj|const|py:\w+):`")


def _documentation(path: Path) -> Iterator[tuple[int, str]]:
    """The docstrings (module, class, function and attribute ones) and ``#:`` comments of a
    source file, with their line numbers."""
    import ast

    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        for statement in body if isinstance(body, list) else []:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                    and isinstance(statement.value.value, str):
                yield statement.lineno, statement.value.value
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip().startswith("#:"):
            yield number, line


def _role_sources() -> list[Path]:
    import importlib.util

    files: list[Path] = []
    for name in ROLE_FREE_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        for folder in spec.submodule_search_locations:
            files += sorted(Path(folder).rglob("*.py"))
    for name in ROLE_FREE_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        files.append(Path(spec.origin))
    return files


def test_docstrings_hold_no_raw_rest_roles() -> None:
    """A role such as ``:class:`X``` shows up raw in the API reference; it must be written as
    a cross-reference the docs tool renders."""
    found = [f"{path.relative_to(ROOT)}:{line}: {match}"
             for path in _role_sources() for line, text in _documentation(path)
             for match in _ROLE.findall(text)]
    assert not found, "raw reST roles; write [`Name`][module.Name] instead:\n" + "\n".join(found)


def test_the_role_check_finds_roles(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""See :class:`~a.B`."""\n\n\ndef f() -> None:\n    """Calls '
                      ':func:`g`."""\n\n\nX = 1\n"""Is :data:`X`."""\n#: Or :attr:`y`.\n')
    roles = [_ROLE.findall(text) for _, text in _documentation(sample)]
    assert sorted(r for found in roles for r in found) == [
        ":attr:`", ":class:`", ":data:`", ":func:`"]
