# Two commands do all set-up on a fresh machine:
#   make serve   environment, model, index (if none), then the service on 127.0.0.1:8000
#   make test    environment, model, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1

.PHONY: setup serve test index eval screenshots

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: a plain `torch` requirement would pull a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

setup: $(VENV)/.installed
	$(PY) -m app model prepare

index: setup
	$(PY) -m app index build --if-missing

serve: index
	$(PY) -m app serve --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest

eval: index
	$(PY) -m app eval eval/dev.jsonl --compare

# docs/page-search.png and docs/page-call.png, from the real page on the real service
screenshots: setup
	HUASHU_DOCS_SCREENSHOTS=1 $(PY) -m pytest -q tests/page/test_screenshots.py
