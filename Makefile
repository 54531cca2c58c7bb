# odr-adapter: every target installs what it needs into .venv first.
PYTHON ?= python3.11
VENV := .venv
# pytest-xdist workers for make test (tests/conftest.py keeps a file's tests together): three on two cores,
# since the scenario runs wait on threads and subprocesses part of the time
TEST_WORKERS ?= 3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/jinshan-week.yaml
RESULT ?= build/run-result.json
CONFIG_ENV ?=

.PHONY: run test up lint unit e2e build clean bench browser scale chaos model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## feed a scenario through the local stack and print the summary; CONFIG_ENV=china deploys that samconfig environment
	$(BIN)/odr-local run $(SCENARIO) --result $(RESULT) $(if $(CONFIG_ENV),--config-env $(CONFIG_ENV))

up: $(STAMP)  ## keep the local stack running (paced: one simulated day = 60 s); SCENARIO=file plays one first, CONFIG_ENV=china deploys that samconfig environment
	$(BIN)/odr-local up $(if $(filter command line,$(origin SCENARIO)),--scenario $(SCENARIO)) $(if $(CONFIG_ENV),--config-env $(CONFIG_ENV))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/odr/odr_adapter src
	for app in functions/*/app.py; do $(BIN)/mypy $$app || exit 1; done
	$(BIN)/sam validate --lint --template template.yaml --region cn-north-1
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint statemachine/*.asl.json

browser:  ## Debian's chromium and its driver for tests/browser (installed only when missing; needs root)
	test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

test: lint browser  ## ruff, mypy, sam validate --lint, cfn-lint, then every pytest suite
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=15

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

build: $(STAMP)  ## sam build without a container (runtime = local python3.11)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/sam build --template template.yaml

bench: $(STAMP)  ## issue 11's figures in one table (bench/bench.py): calls, units, transitions, cold starts, layer, cost
	$(BIN)/python bench/bench.py

scale: $(STAMP)  ## 1,000 complaints over a month of virtual time: wall, CPU, peak memory, reconciliation
	$(BIN)/python bench/run_scale.py scenarios/jinshan-year-slice.yaml

chaos: $(STAMP)  ## the reliability suite at full size (docs/reliability.md): one table of lost / duplicated / stuck / 5xx / PII
	$(BIN)/odr-local chaos --full

MODEL_CASES ?= 1000
MODEL_SEED ?= 20261208
model: $(STAMP)  ## the reference model against the local stack: MODEL_CASES generated timelines in one scenario (docs/reference-model.md)
	$(BIN)/python -m tests.e2e.model_harness --cases $(MODEL_CASES) --seed $(MODEL_SEED) $(if $(MODEL_MUTANT),--mutant $(MODEL_MUTANT))

clean:
	rm -rf $(VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache
