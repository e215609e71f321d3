# CSPNet, from DenseNet up: build and check the book.
#
#   make book    build the book into _build/html (creates .venv and the web assets on first use)
#   make test    unit tests, notebooks (nbval), book build, rendered pages in headless Chromium
#   make test-portable   the notebooks under nbval as another CPU runs them (THREADS=1 or 2)
#   make notebooks       re-run the chapters and store their outputs (NB=... for some)
#   make colab   regenerate the Colab editions colab/*.ipynb from notebooks/
#   make test-colab      the Colab editions run as Colab runs them: ipywidgets 7.7.1, the package
#                        installed with `pip install .` into .venv-colab (about 10 min; not in `make test`)
#   make serve   serve _build/html on http://127.0.0.1:$(PORT)
#   make clean   remove build outputs (make distclean also removes .venv and node_modules)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book
.DELETE_ON_ERROR:

VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

# Determinism: the same hash order and thread count on every machine (the CI box has 2 cores).
export PYTHONHASHSEED  := 0
export OMP_NUM_THREADS := 2
export MKL_NUM_THREADS := 2

# ---------------------------------------------------------------- Python environment
# The stamp lives inside .venv, so deleting .venv forces a full reinstall.
# requirements.txt pins torch==2.13.0 (a CPU wheel on disk); `--no-deps` on the editable
# install keeps pyproject's loose bounds from ever upgrading it. The last line is a tripwire.
VENV_STAMP := $(VENV)/.installed

$(VENV_STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e . --no-deps
	$(PY) -c "import torch; v = torch.__version__; assert v.startswith('2.13.0'), v"
	touch $@

.PHONY: .venv
.venv: $(VENV_STAMP)

# ---------------------------------------------------------------- offline web assets
# MathJax, require.js and the ipywidgets html-manager come from npm (pinned by package-lock.json)
# and are served by the book itself, so rendered pages fetch nothing from a CDN.
#
# Why book/assets/vendor and not a `_static` folder: Jupyter Book 1.x, when a `_static` folder
# exists at the book root, injects *every* .js/.css under the static paths into *every* page;
# MathJax would then load on all pages, without `defer`, and the widget manager everywhere.
# book/assets is listed in html_static_path (_config.yml), so its vendor/ folder lands in
# _build/html/_static/vendor/, where mathjax_path and nb_ipywidgets_js point.
# Generated, git-ignored.
NODE_STAMP := node_modules/.installed
VENDOR     := book/assets/vendor
HTMLMGR    := node_modules/@jupyter-widgets/html-manager/dist

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/.stamp: $(NODE_STAMP) Makefile
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mathjax/output $(VENDOR)/requirejs $(VENDOR)/html-manager
# MathJax: the combined component Sphinx uses, plus what it loads lazily (TeX extensions,
# CHTML fonts, the menu and accessibility modules).
	cp node_modules/mathjax/es5/tex-mml-chtml.js $(VENDOR)/mathjax/
	cp -r node_modules/mathjax/es5/{input,ui,a11y,sre,adaptors} $(VENDOR)/mathjax/
	cp -r node_modules/mathjax/es5/output/chtml $(VENDOR)/mathjax/output/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
# embed-amd.js bundles the widget manager with @jupyter-widgets/base and /controls;
# the fonts beside it are its Font Awesome icons.
	cp $(HTMLMGR)/embed-amd.js $(HTMLMGR)/*.{woff2,woff,ttf,eot,svg} $(VENDOR)/html-manager/
	touch $@

.PHONY: assets
assets: $(VENDOR)/.stamp

# ---------------------------------------------------------------- the book
# Notebooks are not executed here (execute_notebooks: "off"): their committed outputs are
# rendered, and nbval checks those outputs in `make test`. Always a clean build, so a removed
# chapter leaves no stale page behind.
.PHONY: book
book: .venv assets
	rm -rf _build
	$(VENV)/bin/jupyter-book build . -W -n --keep-going --all

# ---------------------------------------------------------------- tests
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# Every notebook re-run by nbval, its stored outputs compared: exact cells byte for byte, cells
# tagged nbval-ignore-output (trained, timed, float sums) by the assertions that follow them.
NBVAL := $(PY) -m pytest -p no:cacheprovider --nbval --nbval-current-env \
	--nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

# "Another CPU": torch's generic kernels instead of this machine's AVX2/AVX-512 ones, so float
# sums round differently, as they do on a reader's machine. A stored output that only this
# machine reproduces fails here. `make test-portable THREADS=2` for two threads.
PORTABLE := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2
THREADS  ?= 1

# Order matters and nothing runs twice: (1) unit tests, (2) every notebook re-run and its
# outputs compared, as another CPU would run them, (3) the book built with warnings as errors,
# (4) the built pages checked.
#
# Steps (1) and (2) run on two pytest-xdist workers with one torch thread each: small networks
# use two cores better as two processes than as two threads of one. `--dist loadfile` keeps each
# notebook (and each test file) whole on one worker, so its cells run in order in one kernel.
WORKERS ?= 2
XDIST   := -n $(WORKERS) --dist loadfile

.PHONY: test
test: .venv assets chromium
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest tests -m "not book" $(XDIST)
	$(PORTABLE) OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(NBVAL) $(XDIST)
	$(MAKE) --no-print-directory book
	CSPNET_BOOK_TESTS_STRICT=1 $(PY) -m pytest tests -m book

.PHONY: test-portable
test-portable: .venv
	$(PORTABLE) OMP_NUM_THREADS=$(THREADS) MKL_NUM_THREADS=$(THREADS) $(NBVAL)

# Re-run chapters and store their outputs (after changing a notebook or the library):
# `make notebooks` for all, `make notebooks NB=notebooks/04_forward_equations.ipynb` for one.
NB ?= $(wildcard notebooks/*.ipynb)
.PHONY: notebooks
notebooks: .venv
	$(PY) scripts/run_notebooks.py $(NB)

# The Colab edition of every chapter (no MyST markup, the book's numbers filled in), generated
# from the committed notebooks and committed itself. tests/test_colab_edition.py fails while an
# edition is out of date: run this after `make notebooks` or any edit of a chapter.
.PHONY: colab
colab: .venv
	$(PY) scripts/colab_edition.py

# ---------------------------------------------------------------- Colab
# `make test-colab`: the Colab editions in an environment built like a Colab runtime, in
# .venv-colab (git-ignored, about 1.5 GB). Not part of `make test`: building the environment takes
# about two minutes and running the seven editions five more (ten on a busy machine), beyond
# `make test`'s budget.
# Run it after changing pyproject.toml's dependencies, cspnet_lib/widgets.py or a setup cell.
#
# tests/colab_runtime.txt pins what Colab ships (pip, ipywidgets 7.7.1, IPython 7, numpy, ...;
# torch: the CPU wheel on disk). The package then goes in as the setup cell puts it in: its
# `pip install -q "cspnet_lib @ URL"` with Colab's pip, this checkout for the URL (not
# requirements.txt: no myst-nb, no jupyter-book). scripts/check_pins.py fails if that install
# changed any pinned version, i.e. if a bound in pyproject.toml does not admit Colab's. Then (1) the explorer's tests run against ipywidgets 7.7.1,
# and the stand-in glue's without myst-nb; (2) every colab/*.ipynb runs under nbclient, timed, in
# an empty folder (scripts/run_colab_editions.py).
COLAB_VENV    := .venv-colab
COLAB_PY      := $(COLAB_VENV)/bin/python
COLAB_PINS    := tests/colab_runtime.txt
COLAB_TOOLS   := pytest==9.2.0 hypothesis==6.170.17 nbclient==0.11.0
COLAB_STAMP   := $(COLAB_VENV)/.installed
COLAB_TIMEOUT ?= 900
# Quiets the debugger warning that ipykernel 6.17 prints at every kernel start.
COLAB_ENV     := env -u PYTHONPATH OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYDEVD_DISABLE_FILE_VALIDATION=1

$(COLAB_STAMP): $(COLAB_PINS)
	rm -rf $(COLAB_VENV)
	python3 -m venv $(COLAB_VENV)
	$(COLAB_PY) -m pip install --quiet $$(grep -E '^pip==' $(COLAB_PINS))
	$(COLAB_PY) -m pip install --quiet -r $(COLAB_PINS) $(COLAB_TOOLS)
	touch $@

.PHONY: test-colab
test-colab: $(COLAB_STAMP)
# Colab's versions again (a failed run may have left others), then the package as a fresh Colab
# runtime gets it: uninstalled first (else pip keeps the last run's copy) and built anew (pip
# caches a wheel built from a file:// URL, which would miss any later change).
	$(COLAB_PY) -m pip install --quiet -r $(COLAB_PINS)
	$(COLAB_PY) -m pip uninstall --quiet --yes cspnet_lib
	$(COLAB_PY) -m pip install --quiet --no-cache-dir "cspnet_lib @ file://$(CURDIR)"  # the setup cell's command
	rm -rf build
	$(COLAB_PY) scripts/check_pins.py $(COLAB_PINS)
	$(COLAB_ENV) $(COLAB_VENV)/bin/pytest -p no:cacheprovider tests/test_widgets.py tests/test_glue.py \
	  -k "not myst_nbs_when_installed"
	$(COLAB_ENV) $(COLAB_PY) scripts/run_colab_editions.py --timeout $(COLAB_TIMEOUT)

# ---------------------------------------------------------------- extras
.PHONY: serve
serve: .venv
	@test -f _build/html/index.html || $(MAKE) --no-print-directory book
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

.PHONY: clean distclean
clean:
	rm -rf _build $(VENDOR) .pytest_cache .hypothesis

distclean: clean
	rm -rf $(VENV) $(COLAB_VENV) node_modules
