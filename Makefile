# The two commands a newcomer needs: `make demo` and `make test`.
# Both install what they need first (a virtualenv in .venv from the pins).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench messages clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The embedded default: SQLite and a filesystem broker under var/, no server.
# A training night may end in certification: objections may be filed for 15
# minutes after the first provisional results instead of the law's 72 hours
# (refused outside DEBUG; see docker/.env.example).
demo: install
	DEMO_OBJECTION_WINDOW_MINUTES=$${DEMO_OBJECTION_WINDOW_MINUTES:-15} $(BIN)/python manage.py demo

test: install lint
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m tests.benchmarks

# Collect the strings marked for translation and compile the catalogues.
messages: install
	$(BIN)/python manage.py makemessages --locale sr_Latn --locale en --no-obsolete \
		--ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*'
	$(BIN)/python manage.py compile_translations

clean:
	rm -rf var
