# Two entry points: `make demo` (install + flagship experiment) and `make test` (install + test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install clean-venv bench browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,gym,evolution,ray]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mesaopt run maze-misgen

# Best effort, never fails: Playwright (the "browser" extra) and a system chromium for tests/reports/test_report_browser.py,
# which are skipped, with the reason, without them. chromium comes from apt-get (as root only; about 20 s, once).
browser-deps: $(STAMP)
	@$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/python -m pip install -q -e ".[test,gym,evolution,ray,browser]" \
		|| echo "note: could not install playwright; the browser report tests will be skipped"
	@if [ -z "$$MESAOPT_CHROMIUM" ] && [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/chromium-browser ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium with apt-get (about 20 s) for the browser report tests"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
				|| echo "note: could not install chromium; the browser report tests will be skipped"; \
		else \
			echo "note: no chromium (apt-get install chromium, or set MESAOPT_CHROMIUM); browser report tests skipped"; \
		fi; \
	fi

# Two test processes (pytest-xdist), whole files per process: the suite is mostly compilation, which runs on one
# core per process; the processes share JAX's persistent compilation cache. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
