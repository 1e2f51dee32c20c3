# Two commands on a fresh machine with python3:
#   make book   build the HTML book into _build/html, executing the notebooks that changed, and its
#               Chinese edition into _build/html/zh_CN from the same execution
#   make test   the full suite (python -m tools.pipeline): lint, unit tests, every chapter built and checked, the built
#               book's pages, browser, student and PDF tests, and a time report in _build/test-report.json
#   make check  the fast tier: lint, unit tests, and the chapters whose code changed
#   make student  the student edition in _build/student: notebooks and HTML without solutions
#   make pdf      the PDF edition, _build/latex/gaedu.pdf (XeLaTeX; the README lists the Debian packages)
#   make classroom  nbgrader assignments (_build/classroom/nbgrader) and Otter-Grader masters (_build/classroom/otter)
#   make gettext  after changing English prose: update the Chinese catalogues (locale/zh_CN), marking changed messages fuzzy
#   make zh-notebooks  the chapters with their prose in Chinese, code unchanged, in _build/zh_CN/notebooks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSETS := node_modules/.installed

# Warnings are errors (-W), references are checked (-n), and every problem is
# reported before failing (--keep-going). `_config.yml` makes a failing cell fail too.
# `make book` is incremental: it executes again only the notebooks whose code changed
# (or all of them when the gaedu package, the book's other files or the model cache
# changed: tools.execute) and Sphinx reads again only the pages that changed.
# FRESH=1 executes every notebook and rebuilds every page (--all).
BOOK_ROOT  ?= .
BOOK_FLAGS := --builder html -W -n --keep-going $(if $(FRESH),--all)
EXECUTE_FLAGS := $(if $(FRESH),--fresh)

.PHONY: book test check unit-test lint student classroom pdf install build-book book-html build-pdf cache clean gettext zh-notebooks

book: install
	$(MAKE) --no-print-directory cache
	$(MAKE) --no-print-directory build-book

# The full suite, what CI runs: tools.pipeline runs every check as a job, one
# single-threaded process per core, longest first (from the last run's times), and ends
# with a time report (printed, and in _build/test-report.json). Each chapter is executed
# exactly twice: by the build, and by its check run (tools.check_run), which repeats
# nbval's comparison of every `# NBVAL_CHECK_OUTPUT` cell and gives nbgrader's and
# Otter's verdicts on the graded exercises; the run fails if a chapter ran more often.
# Beside them: the linter, the model cache (filled if anything is missing, two workers),
# the unit tests, the Sphinx build (-W -n), the built book's tests (pages, browser,
# student edition, PDF) and the real nbgrader and Otter on the smallest chapter.
test: install
	$(BIN)/python -m tools.pipeline test

# The fast tier for contributors (a few minutes): the linter, the unit tests on both cores
# (no book builds), and the build and check run of the chapters whose code changed since
# the last build. It ends by saying what it did not run; `make test` runs everything.
check: install
	$(BIN)/python -m tools.pipeline check

# The models the book loads (the restoration chapter's learned prior and its Deep
# Image Prior fits, and the models of gaedu.zoo), trained once per machine into the model
# cache (~/.cache/gaedu, or $$GAEDU_CACHE_DIR); later runs find them there at once. The
# first run prints what it will train and about how long (python -m gaedu cache --plan),
# then trains on two single-thread workers, longest first: about 20 minutes on two cores.
cache: install
	$(BIN)/python -m gaedu cache --jobs 2

# The tests that need no built book and execute no chapter.
unit-test:
	$(BIN)/python -m pytest -q -m "not built and not notebook and not classroom and not graded and not conformance and not teacher" tests

# ruff (configured in pyproject.toml): pyflakes, pycodestyle, import order, bugbear; the
# notebooks' code is formatted by `ruff format` at the page's width (book/ruff.toml).
lint: install
	$(BIN)/ruff check gaedu tests bench tools book
	$(BIN)/ruff format --check book
	$(BIN)/lint-imports --no-cache

# The student edition: every notebook without its solution cells, and an HTML
# book in which solutions are absent (built from the full build's executed notebooks).
student: install
	$(MAKE) --no-print-directory cache
	$(MAKE) --no-print-directory build-book
	$(BIN)/python -m tools.student_edition

# The PDF edition, English and Chinese (_build/latex/zh_CN/gaedu.pdf; ZH= leaves it out): Jupyter Book's LaTeX builder and XeLaTeX (latexmk), with the executed
# notebooks' outputs from the build's cache (executing only what changed, as `make book`
# does), then tools.check_pdf: every chapter in the outline, no LaTeX error, missing
# character or undefined reference in the log. Needs TeX Live (README: Debian packages).
pdf: install
	$(MAKE) --no-print-directory cache
	$(MAKE) --no-print-directory build-pdf

LATEX_TOOLS := xelatex latexmk
build-pdf:
	@for tool in $(LATEX_TOOLS); do command -v $$tool >/dev/null || { echo "$$tool not found: install TeX Live (Debian: apt-get install texlive-xetex texlive-latex-extra texlive-fonts-recommended texlive-lang-cjk texlive-lang-chinese latex-cjk-common latexmk fonts-noto-cjk fonts-dejavu-core)"; exit 1; }; done
	$(BIN)/python -m gaedu cache --check
	@# Under make test (GAEDU_PIPELINE=1) and its tests (REQUIRE_CACHED=1) the PDF takes the HTML build's outputs and executes nothing.
	$(BIN)/python -m tools.execute --root $(BOOK_ROOT) $(if $(or $(GAEDU_PIPELINE),$(REQUIRE_CACHED)),--require-cached)
	@# latexmk's XeLaTeX mode (as Sphinx's LaTeX Makefile advises): its passes write no PDF; xdvipdfmx writes it once.
	LATEXMKOPTS=-xelatex $(BIN)/jupyter-book build $(BOOK_ROOT) --builder pdflatex -W -n --keep-going
	$(BIN)/python -m tools.check_pdf --root $(BOOK_ROOT)
	$(if $(ZH),$(BIN)/python -m tools.i18n pdf --root $(BOOK_ROOT) && $(BIN)/python -m tools.check_pdf --root $(BOOK_ROOT) --language zh_CN)

# The graded assignments: nbgrader source and released notebooks in _build/classroom/nbgrader
# and Otter-Grader master notebooks in _build/classroom/otter,
# made from the chapters' solutions and checkers (tools.classroom; add --check to run
# nbgrader validate and otter assign on all of them, about fifteen minutes on two cores).
classroom: install
	$(BIN)/python -m tools.classroom

# The Chinese edition's catalogues follow the English prose (Sphinx's gettext builder, executing
# nothing): new messages are added untranslated, changed ones marked fuzzy; `make test` fails
# until each is translated (locale/zh_CN/README.md).
gettext: install
	$(BIN)/python -m tools.i18n update

# The chapters as notebooks with their Markdown in Chinese and their code cells unchanged.
zh-notebooks: install
	$(BIN)/python -m tools.i18n notebooks

install: $(STAMP) $(ASSETS)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

# The files the built book serves itself (MathJax), from the npm registry, as
# locked in package-lock.json. Needs Node.js and npm.
$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(ASSETS)

# The build itself, without the install step (the tests call it from inside the venv):
# tools.execute runs every notebook, two at a time, into the build's cache; the
# build takes their outputs from it; then the executed notebooks are written to
# _build/jupyter_execute for the student edition. MODELS=none: a book that loads no
# model (the tests' small books) does not look at the model cache.
build-book:
	$(if $(filter none,$(MODELS)),,$(BIN)/python -m gaedu cache --check)
	$(BIN)/python -m tools.execute --root $(BOOK_ROOT) $(EXECUTE_FLAGS)
	$(MAKE) --no-print-directory book-html

# Sphinx alone, on notebooks already executed into the build's cache (make test's scheduler
# executes them one job per notebook, then runs this). Then the Chinese edition (tools.i18n):
# the same notebooks and outputs, the prose from locale/zh_CN; it executes nothing.
# ZH= leaves it out (make test builds it as a job of its own).
ZH ?= 1
book-html:
	rm -rf $(BOOK_ROOT)/_build/jupyter_execute
	@# A failed build forgets Sphinx's saved pages, so the next one reads every page again and repeats its warnings.
	$(BIN)/jupyter-book build $(BOOK_ROOT) $(BOOK_FLAGS) || { rm -rf $(BOOK_ROOT)/_build/.doctrees; exit 1; }
	$(BIN)/python -m tools.execute --root $(BOOK_ROOT) --write-executed
	$(if $(ZH),$(BIN)/python -m tools.i18n html --root $(BOOK_ROOT) $(if $(FRESH),--fresh))
	@touch $(BOOK_ROOT)/_build/html/.built  # when this build finished: the tests reuse a build newer than every source
	@echo "The book is in $(BOOK_ROOT)/_build/html/index.html"

clean:
	rm -rf _build
