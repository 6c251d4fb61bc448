# presse: `make demo` builds the index of the bundled sample, answers a search and opens the search page;
# `make test` runs the whole test suite. Both create the virtual environment they need.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INDEX  ?= .presse/sample-index
PORT   ?= 8080

.PHONY: demo test test-fast lint bench clean

$(BIN)/presse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# An editable install leaves presse's own modules uncompiled; where PYTHONDONTWRITEBYTECODE is set, every
	# `presse` process would compile them again (~0.1 s of a cold search). pip compiles a regular install.
	$(BIN)/python -m compileall -q cli.py corpus indexer search
	touch $@

demo: $(BIN)/presse
	$(BIN)/presse index sample --index $(INDEX)
	$(BIN)/presse search "securite" --index $(INDEX) --limit 3
	@echo "Search page on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/presse serve --index $(INDEX) --port $(PORT)

# The whole suite, slow tests on ../shared included (this is what CI runs), on two workers: most tests are
# CPU-bound and the machines have two cores; a test file stays on one worker (its module fixtures are built once).
test: $(BIN)/presse
	$(BIN)/ruff check .
	$(BIN)/pytest -m "slow or not slow" -q -n 2 --dist loadfile

# Fast tests only (pytest's default).
test-fast: $(BIN)/presse
	$(BIN)/pytest -q

lint: $(BIN)/presse
	$(BIN)/ruff check .

bench: $(BIN)/presse
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench speed
	$(BIN)/python -m bench quality

clean:
	rm -rf $(VENV) .presse build *.egg-info
