# The README's two commands: `make run` (the app) and `make test` (everything). Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench vignettes lr score clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py

test: $(STAMP) lint
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

score: $(STAMP)
	$(BIN)/backcheck score data/example_cases.csv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
