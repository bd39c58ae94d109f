"""Finding and running the code examples of the documentation (used by ``test_docs.py``).

The scheme, in full:

- Every fenced ``python`` block of a page is a complete script. It is run as ``__main__`` in a
  working directory shared by the blocks of that page, in page order, inside the test process.
- A block right after ``<!-- file: NAME -->`` is written to ``NAME`` in that directory
  instead of being run; later blocks of the page import it (``import NAME``) or use it (a
  ``pyproject.toml``, a ``test_*.py`` file run by a console block's ``pytest``).
- Every fenced ``console`` block is a shell session: each line starting with ``$ `` is a command
  (a trailing ``\\`` continues it on the next line), the lines after it are its output. The
  commands of a block run in one ``bash`` process, in the page's directory, with the
  project's ``douyin-async`` first on ``PATH``. Each must exit 0, unless the next command is
  ``echo $?`` (whose output then shows the status). Shell variables set in a block are seen
  by the later blocks of the page. Shown output lines must appear, in
  order, in what the command printed; ``...`` inside a shown line matches any text.
- A block right after ``<!-- output -->`` shows what the python block before it prints: each
  of its lines must appear, in order, in that output (``...`` matches any text in a line).
- A block right after ``<!-- not-run: REASON -->`` is not run; the reason is required, and
  the test counts these and keeps them few. A ``python`` block may not be marked so: it is
  always run or written as a file, and a ``.py`` file must be used (its module named) by a
  later block of its page.
- Blocks of other languages (``text``, ``toml``, ``json`` ...) are data, not code: a data
  block that is Python (it parses and imports or defines something) must be a ``python``
  block. ``sh``, ``bash`` and ``shell`` blocks are not allowed without a ``not-run`` marker
  (use ``console``). Signatures are not listed in code blocks: the API reference shows them,
  and a guide describes parameters in prose or a table.
- Redis: examples find their Redis in the ``REDIS_URL`` environment variable, as a deployment
  would. For a page whose blocks mention ``REDIS_URL``, the test starts a throwaway
  ``redis-server`` on a free port (``tests/redis_server.py``; the binary must be on
  ``PATH``), empties it, and sets ``REDIS_URL`` for the page's python and console blocks.
- Generated pages (:data:`GENERATED`: page -> the script that writes it) are results, not
  examples. Nothing on them runs, so they may hold no ``python``, ``console`` or shell block
  and no marker; the script must exist and name the page. Their other blocks (tables,
  listings) are left as the script writes them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import attrs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not-run|file|output)\s*:?\s*(?P<value>.*?)\s*-->\s*$")
SHELL_LANGS = frozenset({"sh", "bash", "shell", "zsh"})
#: Languages the test runs (unless marked ``not-run``).
EXECUTABLE_LANGS = frozenset({"python", "console"})
#: Pages written by a script (relative to ``docs/``) -> the script (relative to the root).
GENERATED = {"benchmarks.md": "benchmarks/run.py"}
#: The environment variable that gives examples their Redis.
REDIS_VAR = "REDIS_URL"


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    source: str
    not_run: str | None = None  # the reason, when marked not-run
    file: str | None = None  # the file name, when marked file
    output: bool = False  # marked output: what the python block before it prints

    @property
    def where(self) -> str:
        """``page.md:line`` for messages."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with the marker before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        lang = (match["info"].split() or [""])[0].lstrip(".").lower()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence) and not lines[i].strip().strip(fence[0])
        ):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1  # the closing fence
        previous = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        marker = _MARKER.match(previous)
        not_run = file = None
        output = False
        if marker is not None:
            if marker["kind"] == "output":
                output = True
            elif marker["kind"] == "not-run":
                not_run = marker["value"]
                if not not_run:
                    raise ValueError(f"{page}:{start + 1}: not-run needs a reason")
            else:
                file = marker["value"]
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*\.(py|toml|txt|json)", file):
                    raise ValueError(f"{page}:{start + 1}: bad file name {file!r}")
        found.append(Block(page, start + 1, lang, "\n".join(body) + "\n", not_run, file,
                           output))
    return found


# -- python ---------------------------------------------------------------------------------


class _Tee(io.TextIOBase):
    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)


def write_file(block: Block, workdir: Path) -> None:
    """Write a ``file:`` block into ``workdir``."""
    assert block.file is not None
    (workdir / block.file).write_text(block.source, encoding="utf-8")


def run_python(block: Block, workdir: Path) -> str:
    """Run a python block in ``workdir`` as ``__main__``; return what it printed."""
    script = workdir / f"example_line_{block.line}.py"
    script.write_text(block.source, encoding="utf-8")
    printed = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, printed)):
        runpy.run_path(str(script), run_name="__main__")
    return printed.getvalue()


class PageContext:
    """The working directory, ``sys.path``, environment and imports of one page's run."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __enter__(self) -> PageContext:
        self._cwd = os.getcwd()
        self._env = dict(os.environ)
        self._modules = set(sys.modules)
        self._path = list(sys.path)
        os.chdir(self.workdir)
        sys.path.insert(0, str(self.workdir))
        return self

    def __exit__(self, *exc_info: object) -> None:
        os.chdir(self._cwd)
        sys.path[:] = self._path
        os.environ.clear()
        os.environ.update(self._env)
        for name in set(sys.modules) - self._modules:
            module = sys.modules.get(name)
            origin = getattr(module, "__file__", None) or ""
            if origin.startswith(str(self.workdir)):
                del sys.modules[name]


# -- console --------------------------------------------------------------------------------


@attrs.frozen
class Command:
    """One ``$`` command of a console block and the output shown under it."""

    text: str
    shown: tuple[str, ...]


def commands(block: Block) -> list[Command]:
    """The commands of a console block, each with its shown output."""
    found: list[Command] = []
    lines = block.source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if line.strip() and not found:
                raise ValueError(f"{block.where}: output before the first '$ ' command")
            i += 1
            continue
        text = line[2:]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text + "\n" + lines[i]
        i += 1
        shown: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            if lines[i].strip():
                shown.append(lines[i].rstrip())
            i += 1
        found.append(Command(text, tuple(shown)))
    return found


def _pattern(shown: str) -> re.Pattern[str]:
    parts = [re.escape(part.strip()) for part in shown.split("...")]
    return re.compile(r"\s*" + r".*?".join(parts) + r"\s*$")


def check_output(command: Command, output: str, where: str) -> None:
    """Every shown line must match, in order, some line of ``output``."""
    actual = output.splitlines()
    position = 0
    for shown in command.shown:
        if not shown.strip():
            continue
        pattern = _pattern(shown)
        for k in range(position, len(actual)):
            if pattern.match(actual[k]):
                position = k + 1
                break
        else:
            raise AssertionError(
                f"{where}: `{command.text}` did not print a line like {shown!r}; "
                f"it printed:\n{output}"
            )


_SEPARATOR = "@@douyin-docs-command-{}@@"


def run_console(block: Block, workdir: Path, timeout: float = 60.0) -> None:
    """Run the commands of a console block in one bash process and check each one."""
    cmds = commands(block)
    if not cmds:
        raise ValueError(f"{block.where}: a console block without '$ ' commands")
    # Variables set in one block are seen by the next blocks of the page, as in one terminal.
    script = ["set -a", "[ -f .console-env ] && source .console-env", "set -uo pipefail"]
    for n, command in enumerate(cmds):
        follows_status = n + 1 < len(cmds) and cmds[n + 1].text.strip() == "echo $?"
        script.append(f"echo {_SEPARATOR.format(n)}")
        if command.text.strip() == "echo $?":
            script.append("echo $__status")
            continue
        script.append(f"{command.text} 2>&1")
        script.append("__status=$?")
        if not follows_status:
            script.append(
                'if [ $__status -ne 0 ]; then echo "@@failed $__status@@"; exit $__status; fi'
            )
    script.append("export -p > .console-env")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("DOUYIN_BASE_URL", None)
    env.pop("DOUYIN_ACCESS_TOKEN", None)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=workdir, env=env, capture_output=True,
        text=True, timeout=timeout,
    )
    outputs = re.split(r"@@douyin-docs-command-\d+@@\n", done.stdout)[1:]
    if done.returncode != 0:
        failed = len(outputs) - 1
        raise AssertionError(
            f"{block.where}: `{cmds[failed].text}` exited {done.returncode}:\n"
            f"{outputs[failed] if outputs else ''}{done.stderr}"
        )
    for command, output in zip(cmds, outputs, strict=True):
        check_output(command, output, block.where)


def run_blocks(found: list[Block], workdir: Path) -> None:
    """Run a page's blocks in order in ``workdir`` (inside a
    [`PageContext`][docs_examples.PageContext]): python and console blocks, files written,
    shown outputs checked; ``not-run`` blocks skipped."""
    printed: str | None = None
    for block in found:
        try:
            if block.output:
                assert printed is not None, f"{block.where}: output of what?"
                check_output(Command("the example above", tuple(block.source.splitlines())),
                             printed, block.where)
                printed = None
            elif block.file is not None:
                write_file(block, workdir)
            elif block.lang == "python" and block.not_run is None:
                printed = run_python(block, workdir)
            elif block.lang == "console" and block.not_run is None:
                run_console(block, workdir)
        except Exception as exc:
            raise AssertionError(f"example at {block.where} failed: {exc}") from exc


def uses_redis(page: Path) -> bool:
    """Whether a block of ``page`` that runs (or is written for one that does) reads Redis."""
    return any(REDIS_VAR in b.source for b in blocks(page)
               if b.file or (b.lang in EXECUTABLE_LANGS and b.not_run is None))


def is_python(block: Block) -> bool:
    """Whether a block's text is a Python program: it parses and imports or defines names."""
    try:
        tree = ast.parse(block.source)
    except SyntaxError:
        return False
    kinds = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) for node in tree.body)


def module_used_later(block: Block, later: list[Block]) -> bool:
    """Whether the ``.py`` file of a ``file:`` block is named by a later block that runs."""
    assert block.file is not None
    name = re.escape(block.file.removesuffix(".py"))
    return any(re.search(rf"\b{name}\b", b.source) for b in later
               if b.file or (b.lang in EXECUTABLE_LANGS and b.not_run is None))


def pages(exclude: frozenset[str] = frozenset()) -> Iterator[Path]:
    """The Markdown pages under ``docs/`` (relative names in ``exclude`` left out)."""
    for page in sorted(DOCS.rglob("*.md")):
        if page.relative_to(DOCS).as_posix() not in exclude:
            yield page
