# SpokeN-100 companion. `make book` and `make test` do everything on a fresh machine.
#   make book [PROFILE=smoke|default|paper|paper-rehearsal|reference] [DATA=standin|real|/path/to/SpokeN-100] [ALLOW_PROBLEMS=1]
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= default
DATA ?= standin
# ALLOW_PROBLEMS=1 builds on a corpus that fails the index checks of `spoken100 prepare` (it lists them).
ALLOW_PROBLEMS ?=
PREPARE := prepare $(if $(ALLOW_PROBLEMS),--allow-problems)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETUP_STAMP := $(VENV)/.setup-done
export SPOKEN100_HOME ?= $(CURDIR)/data
export SPOKEN100_SHARED ?= $(abspath $(CURDIR)/../shared)
export PYTHONHASHSEED := 0

WORK := _build/$(PROFILE)
STAGE := $(WORK)/book
TIMINGS := $(WORK)/timings
HTML ?= _build/html
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
STAGED_NOTEBOOKS := $(NOTEBOOKS:%=$(STAGE)/%)
PAGES := _config.yml _toc.yml references.bib $(wildcard book/*.md)
STAGED_PAGES := $(PAGES:%=$(STAGE)/%)
SRC := $(shell find src -name '*.py' -o -name '*.csv') pyproject.toml
JB_FLAGS := -W -n --keep-going
# Debian's human-recorded telephone prompts (CC BY-SA 3.0), the human voices of chapters 4 and 6.
PROMPT_PACKAGES := asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav

.PHONY: help setup system-deps browser-deps data fsdd book html serve bench test lint unit book-test rehearsal-test clean clean-book FORCE

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/' | expand -t 14

# ---- environment ----------------------------------------------------------------------------
setup: system-deps $(SETUP_STAMP)  ## create .venv with the pinned packages and espeak-ng

system-deps:
	@if ! command -v espeak-ng >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing espeak-ng with apt-get ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; \
	  else \
	    echo "espeak-ng is missing. Install it, then rerun make:"; \
	    echo "  sudo apt-get install espeak-ng      (Debian/Ubuntu)"; \
	    echo "  conda install -c conda-forge espeak-ng   (conda)"; exit 1; \
	  fi; \
	fi
	@# Human number prompts for the second synthetic-to-real test (chapters 4 and 6); optional.
	@if [ ! -f /usr/share/asterisk/sounds/en_US_f_Allison/digits/0.wav ] \
	    || [ ! -f /usr/share/asterisk/sounds/fr_CA_f_June/digits/et.wav ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing the human number prompts (asterisk-core-sounds-en-wav, -fr-wav; CC BY-SA 3.0) with apt-get ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      $(PROMPT_PACKAGES) >/dev/null) || echo "could not install them; the human-voice sections will say Skipped"; \
	  else \
	    echo "optional: the human-voice sections of chapters 4 and 6 need: sudo apt-get install $(PROMPT_PACKAGES)"; \
	  fi; \
	fi

# Headless Chromium and its driver: only the browser check of `make test` needs them, not `make book`.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver (for the browser check of the book) with apt-get ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium or chromedriver is missing; the browser check in 'make test' needs both. Install them:"; \
	    echo "  sudo apt-get install chromium chromium-driver      (Debian/Ubuntu)"; \
	    echo "  (make book does not need them)"; \
	  fi; \
	fi

$(SETUP_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# ---- the book ---------------------------------------------------------------------------------
# FSDD (chapter 4's real English digits) when the network allows: never required, checksum verified;
# a copy already found (data home, SPOKEN100_FSDD, the reference folder) is kept and nothing is fetched.
fsdd: $(WORK)/fsdd-tried  ## try to get the Free Spoken Digit Dataset (optional; `spoken100 fetch --fsdd`)

# Tried once per build folder (a no-op build starts no Python for it); `spoken100 fetch --fsdd` any time.
$(WORK)/fsdd-tried: | setup
	@$(BIN)/spoken100 fetch --fsdd --optional
	@mkdir -p $(WORK) && touch $@

data: setup  ## generate the stand-in corpus (or check DATA) and index it
	$(BIN)/spoken100 $(PREPARE) --data "$(DATA)" --profile profiles/$(PROFILE).yml --out $(WORK)/corpus.json

$(WORK)/corpus.json: FORCE | setup
	@$(BIN)/spoken100 $(PREPARE) --data "$(DATA)" --profile profiles/$(PROFILE).yml --out $@

# Stamps that change (and so rebuild what depends on them) only when their content does. A stamp
# that is missing is always written, also for an empty value: else it would be remade on every run.
$(WORK)/data-arg: FORCE
	@mkdir -p $(WORK); [ -f $@ ] && [ "$$(cat $@)" = "$(DATA)" ] || echo "$(DATA)" > $@

$(STAGE)/notebooks/%.ipynb: notebooks/%.ipynb profiles/$(PROFILE).yml $(WORK)/corpus.json $(WORK)/data-arg $(SRC) | setup $(WORK)/fsdd-tried
	@$(BIN)/spoken100 run-notebook $< $@ --profile profiles/$(PROFILE).yml --data "$(DATA)" --timings $(TIMINGS)

$(STAGE)/%: %
	@mkdir -p $(dir $@); cp $< $@

# The configuration is staged with the repository address (REPO_URL) that the launch buttons need.
REPO_URL ?=
$(WORK)/repo-url: FORCE
	@mkdir -p $(WORK); [ -f $@ ] && [ "$$(cat $@)" = "$(REPO_URL)" ] || echo "$(REPO_URL)" > $@

$(STAGE)/_config.yml: _config.yml $(WORK)/repo-url
	@mkdir -p $(dir $@); cp $< $@
	@if [ -n "$(REPO_URL)" ]; then printf '%s\n' "repository:" "  url: $(REPO_URL)" "  branch: main" \
		"launch_buttons:" "  notebook_interface: jupyterlab" "  binderhub_url: https://mybinder.org" >> $@; fi

$(STAGE)/book/_generated/build-info.md: $(WORK)/corpus.json $(STAGED_NOTEBOOKS) profiles/$(PROFILE).yml | setup
	@mkdir -p $(TIMINGS)
	@$(BIN)/spoken100 build-info --corpus $(WORK)/corpus.json --profile profiles/$(PROFILE).yml --timings $(TIMINGS) --out $@

# one command writes them all (and the landing headline): a grouped target, so a missing one is rebuilt too
$(STAGE)/book/_generated/paper-vs-companion.md $(STAGE)/book/_generated/board.md \
		$(STAGE)/book/_generated/paper-design.md &: $(WORK)/corpus.json \
		$(STAGED_NOTEBOOKS) profiles/$(PROFILE).yml | setup
	@$(BIN)/spoken100 summary --notebooks $(STAGE)/notebooks --corpus $(WORK)/corpus.json \
		--profile profiles/$(PROFILE).yml --out-dir $(dir $@)

BENCH := _build/bench
$(STAGE)/book/_generated/benchmarks.md: $(wildcard $(BENCH)/*.json) | setup
	@mkdir -p $(dir $@)
	@$(BIN)/spoken100 bench-info --bench $(BENCH) --out $@

$(WORK)/html.done: $(STAGED_PAGES) $(STAGED_NOTEBOOKS) $(STAGE)/book/_generated/build-info.md \
		$(STAGE)/book/_generated/benchmarks.md $(STAGE)/book/_generated/paper-vs-companion.md \
		$(STAGE)/book/_generated/board.md $(STAGE)/book/_generated/paper-design.md
	$(BIN)/jupyter-book build $(STAGE) $(JB_FLAGS)
	@$(BIN)/spoken100 publish $(STAGE)/_build/html $(HTML)
	@touch $@

book: setup $(WORK)/html.done  ## execute the notebooks and render the book into _build/html
	@echo "book up to date: $(HTML)/index.html (profile $(PROFILE), data $(DATA))"

serve:  ## serve the rendered book on http://localhost:8000
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(HTML)

# The timing benchmarks (each writes $(BENCH)/<name>.json). bench_convergence.py is not one of them:
# it trains the reference profile for hours and writes the committed records (README).
BENCHMARKS := $(filter-out benchmarks/bench_convergence.py,$(wildcard benchmarks/bench_*.py))
bench: setup  ## time every expensive stage from a cold start; results go to _build/bench and the book
	@for script in $(BENCHMARKS); do echo "== $$script"; \
		$(BIN)/python $$script --out $(BENCH)/$$(basename $$script .py | sed 's/^bench_//').json || exit 1; done

# ---- quality gates ----------------------------------------------------------------------------
test: setup browser-deps lint unit book-test rehearsal-test  ## lint, unit tests, clean smoke and paper-rehearsal builds

lint:
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

unit:
	$(BIN)/pytest -q -m "not slow"

book-test: browser-deps  ## clean build of the smoke profile, warnings as errors
	rm -rf _build/test
	$(MAKE) --no-print-directory book PROFILE=smoke WORK=_build/test HTML=_build/test/html
	$(BIN)/pytest -q -m slow

rehearsal-test:  ## clean build of the paper-rehearsal profile: the paper profile's code path, cut to minutes
	rm -rf _build/rehearsal
	$(MAKE) --no-print-directory book PROFILE=paper-rehearsal WORK=_build/rehearsal HTML=_build/rehearsal/html

clean-book:  ## remove the build outputs (keeps data/ and .venv)
	rm -rf _build

clean: clean-book  ## remove build outputs and the virtual environment (keeps data/)
	rm -rf $(VENV)
