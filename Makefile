# Set-up and checks. Needs only python3 (and make); everything else is installed into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench docs clean system-packages hey lock

# The test environment is pinned by constraints.txt; `make lock` refreshes it. The packages go
# in with uv (pinned there too), which installs the same pins as pip in a few seconds.
UV := $(BIN)/uv pip install -q --python $(BIN)/python -c constraints.txt
$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt uv
	$(UV) -e '.[test]'
	touch $(STAMP)

# Refresh the pins: the newest versions the ranges in pyproject.toml allow, frozen.
lock:
	rm -rf .lock-venv
	$(PY) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q uv -e '.[test,bench]'
	.lock-venv/bin/python -m pip freeze --exclude-editable > constraints.txt
	rm -rf .lock-venv

# The Debian packages the tests use, those missing installed with one apt-get: redis-server
# (shared quota), PostgreSQL (sync; the tests start their own server), tmux (a pull's
# progress in an 80-column pane), faketime (the Beijing day at 23:30 UTC).
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# The test command: install everything, lint, type-check, run the suite: four at a time (most
# tests wait on sockets and subprocesses, not the CPU), then the tests that count requests per
# rolling second on the server side, four at a time (they mostly wait out the cap, using a
# third of the CPU), and those of them that start processes of their own one at a time.
test: $(STAMP) system-packages
	$(BIN)/ruff check douyin_async tests
	$(BIN)/mypy douyin_async
	$(BIN)/pytest -q -n 4 -m "not timing"
	$(BIN)/pytest -q -n 4 -m "timing and not alone"
	$(BIN)/pytest -q -m alone

lint: $(STAMP)
	$(BIN)/ruff check douyin_async tests
	$(BIN)/mypy douyin_async

# The main job: a batch pull of 200,000+ records from the built-in sandbox, with progress.
demo: $(STAMP)
	mkdir -p out
	$(BIN)/douyin-async pull task-videos --sandbox --billing-date -7d..-1d --published-from -40d --published-to yesterday --page-size 2000 --force --out out/task_videos.jsonl

# Benchmarks against the sandbox on 127.0.0.1; writes docs/benchmarks.md and its plots.
$(VENV)/.bench-installed: $(STAMP) pyproject.toml
	$(UV) -e '.[bench]'
	touch $@

# hey, the HTTP load generator of the web-app benchmark (Debian's package).
hey:
	@command -v hey >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq hey >/dev/null; }

bench: $(VENV)/.bench-installed hey system-packages
	$(BIN)/python -m benchmarks.run

# The documentation site, built strictly (broken links and references fail) into site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) out site build .pytest_cache .mypy_cache .ruff_cache
