# Two commands do all set-up: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean results

$(STAMP): pyproject.toml constraints.txt
	@echo "Installing arm-bench and its dependencies into $(VENV) (first run only; log: $(VENV)/install.log)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -c constraints.txt -e '.[dev,dashboard]' > $(VENV)/install.log 2>&1 \
		|| (tail -n 30 $(VENV)/install.log; echo "pip install failed: see $(VENV)/install.log"; exit 1)
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/arm-bench $(ARGS)

# The results page docs/results.md: runs the results sweeps (finished runs are skipped), draws them, writes the page.
results: $(STAMP)
	$(BIN)/python -m plots.results_page $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) outputs multirun
