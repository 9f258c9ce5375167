# The README's two commands: `make run` (the app) and `make test` (everything). Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick lint bench vignettes lr score schema clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py

# The browser test's accessibility checker (axe-core, pinned in package-lock.json).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --silent
	touch node_modules/.installed

# Every test, the slow ones included (pyproject's default leaves them out; a later -m replaces it).
test: $(STAMP) lint node_modules/.installed
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -n 2 -m "slow or not slow"

# The tests not marked slow: the loop while working on the code.
quick: $(STAMP) lint node_modules/.installed
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

vignettes: $(STAMP)
	$(BIN)/python scripts/vignettes.py

# The network's base rates and implied likelihood ratios beside the published figures.
lr: $(STAMP)
	$(BIN)/python scripts/lr.py

bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_networks.py --runs 1
	bash scripts/ensure_chromium.sh
	$(BIN)/python scripts/bench_app.py

# After an edit to model/data/contract.toml (or to the care levels' advice): docs/case-schema.md is generated.
schema: $(STAMP)
	$(BIN)/python scripts/schema_doc.py -o docs/case-schema.md

score: $(STAMP)
	$(BIN)/backcheck score data/example_cases.csv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
