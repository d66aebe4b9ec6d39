# Two commands on a fresh Debian/Ubuntu machine:
#   make run   — install what is missing, migrate the embedded SQLite database, load demo data
#                once, serve on http://127.0.0.1:$(PORT) with jobs in-process and mail to files
#   make test  — the whole suite (PostgreSQL / Redis tests use REVERSE_TEST_*_URL)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Japanese fonts and HarfBuzz subsetting for WeasyPrint; Pango for its layout.
RUN_PACKAGES  := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 shared-mime-info
# Browser tests drive Debian's Chromium; PDF tests turn pages into images with poppler.
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils

MO_FILES := $(patsubst %.po,%.mo,$(wildcard reverse/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint format translations extract-messages system-packages system-packages-test clean

run: system-packages $(VENV)/.installed $(MO_FILES)
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) serve --port $(PORT)

test: system-packages-test $(VENV)/.installed $(MO_FILES)
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check reverse tests

format: $(VENV)/.installed
	$(BIN)/ruff format reverse tests
	$(BIN)/ruff check --fix .

system-packages:
	@$(call apt_install,$(RUN_PACKAGES))

system-packages-test:
	@$(call apt_install,$(TEST_PACKAGES))

define apt_install
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  echo "Installing system packages:$$missing"; \
  $(SUDO) apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

reverse/translations/%/LC_MESSAGES/messages.mo: reverse/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d reverse/translations -l $*

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k N_ -o /tmp/reverse-messages.pot .
	$(BIN)/pybabel update -i /tmp/reverse-messages.pot -d reverse/translations -l ja --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
