# Four Puzzles of Neural Networks: set-up, build and test.
#   make book   install everything into .venv (first time only), then build the HTML book
#   make test   install the test tools too (Chromium from Debian), build, run every test
#   make pdf    the print edition: the whole book in one PDF (_build/pdf/four-puzzles.pdf)
# Nothing else is needed on a fresh machine with Python 3.11, Node.js and apt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HTML   := _build/html

LABEXT := $(VENV)/share/jupyter/labextensions/nnpuzzles-lecture-slides

.PHONY: book pdf test check vendor labextension chromium qemu clean execute benchmark status seeds ledger

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The book's Python packages (torch pinned to the CPU wheel) and the companion package, editable.
$(VENV)/.book-installed: $(BIN)/python requirements.txt constraints.txt widgets/pyproject.toml
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -e ./widgets
	touch $@

$(VENV)/.test-installed: $(VENV)/.book-installed requirements-test.txt
	$(BIN)/pip install --quiet -c constraints.txt -r requirements-test.txt
	touch $@

# MathJax 3, require.js and the widget manager, from the npm registry (package-lock.json),
# copied into _vendor/ which _config.yml serves as static files: the site loads nothing remote.
vendor: _vendor/.copied
_vendor/.copied: js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	rm -rf _vendor && mkdir -p _vendor/mathjax _vendor/jupyter-widgets
	cp js/node_modules/mathjax/es5/tex-chtml.js _vendor/mathjax/
	cp -r js/node_modules/mathjax/es5/input js/node_modules/mathjax/es5/output \
	      js/node_modules/mathjax/es5/a11y js/node_modules/mathjax/es5/ui \
	      js/node_modules/mathjax/es5/adaptors js/node_modules/mathjax/es5/sre _vendor/mathjax/
	cp js/node_modules/requirejs/require.js _vendor/jupyter-widgets/require.min.js
	cp js/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js _vendor/jupyter-widgets/
	touch $@

# The book's JupyterLab extension (labextension/, TypeScript): live explorers on the
# jupyterlab-myst-revealjs slideshow. Its packages come from the npm registry with the lock file;
# it is built against the installed JupyterLab and copied into the venv's lab extensions.
labextension: $(VENV)/.labext-installed
$(VENV)/.labext-installed: $(VENV)/.book-installed labextension/package.json labextension/package-lock.json \
		labextension/tsconfig.json labextension/src/index.ts labextension/style/index.css
	cd labextension && npm ci --no-audit --no-fund --loglevel=error && npx tsc
	cd labextension && PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/jupyter-builder build \
	  --core-package-file="$$($(abspath $(BIN))/python -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging", "package.json"))')" .
	rm -rf $(LABEXT) && cp -r labextension/build $(LABEXT)
	touch $@

book: $(VENV)/.book-installed vendor labextension
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build --warningiserror --nitpick --keep-going .

# The print edition: the whole book as one page (singlehtml builder), printed to
# _build/pdf/four-puzzles.pdf by Debian's Chromium with each explorer as a grid of its presets
# (Playwright and pypdf come with the test tools).
pdf: $(VENV)/.test-installed chromium vendor
	$(BIN)/python tools/make_pdf.py

# Debian's Chromium for the real-browser tests (never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's qemu-user: the cross-CPU test runs a probe as on an Intel and an AMD processor.
qemu:
	@test -x /usr/bin/qemu-x86_64 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }

test: $(VENV)/.test-installed chromium qemu book
	$(BIN)/python -m pytest

# The maintainer's quick check (under a minute, no book build): lint, unit tests except the slow ones, notebook structure.
check: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "unit and not slow" tests/unit

# Re-execute notebooks in place in a fresh kernel (authors), e.g. make execute NB=chapters/...
execute: $(VENV)/.book-installed
	$(BIN)/python tools/execute_notebooks.py $(NB)

benchmark: $(VENV)/.test-installed book
	$(BIN)/python benchmarks/live_latency.py
	$(BIN)/python benchmarks/page_load.py

# Re-execute chapters with every seed shifted (copies in _build/seed-shift; stored notebooks untouched)
# and report every assertion that fails, e.g. make seeds SHIFTS="1 2 3" NB=chapters/...
SHIFTS ?= 1 2 3
seeds: $(VENV)/.book-installed
	$(BIN)/python tools/seed_shift.py $(NB) --shifts $(SHIFTS)

ledger: $(VENV)/.book-installed
	$(BIN)/python tools/make_ledger.py

status: $(VENV)/.book-installed
	$(BIN)/python tools/make_status.py

# Removes what the build made (the venv stays: delete .venv by hand for a new install).
clean:
	rm -rf _build _vendor js/node_modules labextension/node_modules labextension/lib labextension/build \
	  labextension/tsconfig.tsbuildinfo $(LABEXT) $(VENV)/.labext-installed
