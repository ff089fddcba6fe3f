# Two commands, each doing its own set-up on a fresh machine with Python 3.11+:
#   make serve   - start pf-mock on http://127.0.0.1:8000
#   make test    - run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test bench calibrate mutate mutate-sample clean

# setuptools tells every editable install of a package with more than one top-level folder
# (pf_mock_scenarios is scenarios/) to mind same-named folders, as a warning; that note is the
# only thing it has to say here, so it is silenced by its exact text and real warnings still show.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test,mcp]'
	touch $(STAMP)

# The Node tools some tests drive (package.json pins them, package-lock.json fixes the whole tree), into
# node_modules with the system's npm; without npm those tests skip (under CI they fail: .ci/run installs it).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the tests that drive Node tools will be skipped"; \
	fi

serve: $(STAMP)
	$(BIN)/pf-mock serve $(ARGS)

# Python keeps its compiled modules (and pytest its assertion-rewritten test modules and plugins) in
# __pycache__ unless PYTHONDONTWRITEBYTECODE is set; some machines set it for every process, and then each
# of the two workers, and every pf-mock or benchmark process a test starts, compiles the whole project and
# rewrites its test modules again on every run (about 20 s of CPU per worker). The suite runs with the
# cache on, whatever the environment says. --dist worksteal: a worker that runs out of tests takes half
# of what the other has queued, so the two end together.
test: $(STAMP) $(NODE_STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n 2 --dist worksteal $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

calibrate: $(STAMP)
	$(BIN)/python benchmarks/calibration.py

# Mutation testing (not part of `make test`): small bugs planted one at a time in the modules that
# [tool.mutmut] in pyproject.toml names, each run against the tests named there that reach it, with
# hypothesis cut to a few examples (the `mutation` profile). Slow (about 1400 mutants): ARGS narrows it
# to some mutants, e.g. make mutate ARGS='"pf_mock.ledger*"'; make mutate-sample runs a seeded random
# sample (SAMPLE mutants, SEED) instead. Both print the score and the survivors.
SAMPLE ?= 200
SEED   ?= 14
$(VENV)/.mutate-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

mutate: $(VENV)/.mutate-installed
	rm -rf mutants
	PF_MOCK_HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2 $(ARGS)
	$(BIN)/python tests/mutation_score.py

mutate-sample: $(VENV)/.mutate-installed
	rm -rf mutants
	PF_MOCK_HYPOTHESIS_PROFILE=mutation $(BIN)/python tests/mutation_sample.py $(SAMPLE) $(SEED)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis mutants node_modules
