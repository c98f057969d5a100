# rlrec — every task a researcher needs, from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
# The stamp names the torch requirement, so `make install TORCH=...` reinstalls when it changes.
STAMP  := $(VENV)/.installed-$(shell printf '%s' '$(TORCH)' | cksum | cut -d' ' -f1)

.PHONY: install train test test-full lint bench paper clean

install: $(STAMP)

# torch first, from $(TORCH), so pip never resolves a (CUDA) torch by itself.
# TORCH is unquoted so it can carry pip options: TORCH="torch==2.13.0 --index-url URL".
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e '.[dev,sweep]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

train: install
	$(BIN)/rlrec train $(ARGS)

test: install
	$(BIN)/python -m pytest -q $(ARGS)

test-full: install
	$(BIN)/python -m pytest -q -m '' $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# A small paper table end to end: conf/experiment/paper_quick.yaml (4 algorithms × 3 seeds), then
# `rlrec report` writes outputs/paper_quick/results.{md,tex,csv} and learning curves.
paper: install
	rm -rf outputs/paper_quick
	$(BIN)/rlrec train experiment=paper_quick $(ARGS)
	$(BIN)/rlrec report outputs/paper_quick --baseline algorithm=random \
		--metric eval/return --metric eval/return_purchase --metric eval/episode_length --metric eval/return_oracle

# The bench extra (sentence-transformers, the baseline) is installed after torch, so it keeps that torch.
bench: install
	$(BIN)/pip install -e '.[dev,bench]'
	$(BIN)/python bench/bench_env_step.py
	$(BIN)/python bench/bench_oracles.py
	$(BIN)/python bench/bench_dqn_throughput.py
	$(BIN)/python bench/bench_data_prepare.py
	$(BIN)/python bench/bench_text_encoder.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
