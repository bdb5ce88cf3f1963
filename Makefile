# The two commands: `make demo` (set up and audit the demo account) and `make test` (everything).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format lab bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (twelvefactor)" >/dev/null
	touch $(STAMP)

install: $(STAMP)  ## create the virtualenv and install the pinned dependencies

demo: $(STAMP)  ## audit the built-in demo account into reports/demo (exit 1 = findings, as planted)
	$(BIN)/twelvefactor demo --out reports/demo || [ $$? -eq 1 ]

test: $(STAMP) lint  ## lint, then every test (unit, collectors on moto, notebooks, end to end), one worker per core
	$(BIN)/python -m pytest -n auto --dist loadfile
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval-lax notebooks/

lint: $(STAMP)
	$(BIN)/ruff check lib tests notebooks benchmarks
	$(BIN)/ruff format --check lib tests notebooks benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix lib tests notebooks
	$(BIN)/ruff format lib tests notebooks

lab: $(STAMP)  ## workshop: the demo account on 127.0.0.1 + JupyterLab on it; Ctrl-C stops both (PORT=5005, LAB_ARGS=--no-browser)
	$(BIN)/twelvefactor lab $(if $(PORT),--port $(PORT)) $(LAB_ARGS)

bench: $(STAMP)  ## benchmarks, not part of test: API calls, time, memory for N=50,500,5000 (or N=...)
	$(BIN)/python benchmarks/run.py $(if $(N),--sizes $(N))

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache
