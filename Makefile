# drillbook: two commands on a fresh machine with Python 3.11+ and make.
#   make run    set up, then walk through the core loop on the embedded default
#   make test   set up, then run the whole test suite (ruff and mypy included)
# Both install exactly the versions in requirements/lock.txt (see docs/dependencies.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements/lock.txt
STAMP := $(VENV)/.installed-lock
# One lock for every extra and Python 3.11 and newer on any platform (uv's universal mode).
LOCK_ARGS := pyproject.toml --all-extras --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" -o $(LOCK)

.PHONY: run test test-fast lint bench lock lock-upgrade clean

# The venv is rebuilt from scratch whenever the lock or pyproject.toml changes, so an
# existing .venv holds exactly what the lock says (nothing left over from older pins).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/drillbook tour

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow and not postgres and not browser"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

# Re-resolve after a change to pyproject.toml, keeping every pin that still fits.
lock: $(STAMP)
	$(BIN)/uv pip compile $(LOCK_ARGS)

# Move every pin to the newest release the ranges in pyproject.toml allow.
lock-upgrade: $(STAMP)
	$(BIN)/uv pip compile --upgrade $(LOCK_ARGS)

clean:
	rm -rf $(VENV) .venv-newest build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
