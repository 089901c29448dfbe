# The two commands a newcomer needs: `make demo` and `make test`.
# Both install what they need first (a virtualenv in .venv from the pins).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install pdf-libraries demo test lint format bench loadtest loadtest-tools messages clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@$(MAKE) --no-print-directory pdf-libraries
	touch $(STAMP)

# The PDF documents (WeasyPrint) load Pango and a font with Cyrillic from the
# system. On Debian as root they are installed with apt-get; otherwise the
# command to run is printed. Until then only the PDFs answer 503.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

pdf-libraries:
	@if $(BIN)/python -c "import weasyprint" 2>/dev/null \
		&& [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing $(PDF_PACKAGES) for the PDF documents"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; } \
			|| { echo "make: apt-get could not install $(PDF_PACKAGES), which the PDF documents need" >&2; exit 1; }; \
	else \
		echo "make: PDF documents need the Pango library and fonts:" \
			"sudo apt-get install $(PDF_PACKAGES)" >&2; \
	fi

# The embedded default: SQLite and a filesystem broker under var/, no server.
# A whole night (manage.py simulate_night) in about 15 minutes, beside a worker
# kept alive and the site. It ends in certification: objections may be filed
# for 15 minutes after the first provisional results instead of the law's 72
# hours (refused outside DEBUG; see docker/.env.example).
demo: install
	DEMO_OBJECTION_WINDOW_MINUTES=$${DEMO_OBJECTION_WINDOW_MINUTES:-15} $(BIN)/python manage.py demo

test: install lint
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark; each writes its figures to docs/BENCHMARKS.md.
bench: install
	$(BIN)/python -m tests.benchmarks

# The load test (loadtest/): gunicorn, nginx, two Celery workers, PostgreSQL
# and Redis on this machine, 50 clerks entering records and 500 readers
# polling for about two minutes, then a recount; figures to
# docs/BENCHMARKS.md. Needs PostgreSQL on 127.0.0.1:5432 (user postgres; its
# database `loadtest` is dropped and made again) and Redis (db 5 is emptied).
# LOADTEST_ARGS passes options: make loadtest LOADTEST_ARGS="--duration 60".
loadtest: install loadtest-tools
	$(BIN)/python -m loadtest $(LOADTEST_ARGS)

# nginx from Debian's package, run with the checked-in config (docker/nginx/).
loadtest-tools:
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing nginx for the load test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; } \
			|| { echo "make: apt-get could not install nginx, which the load test needs" >&2; exit 1; }; \
	else \
		echo "make: the load test needs nginx: sudo apt-get install nginx" >&2; exit 1; \
	fi

# Collect the strings marked for translation and compile the catalogues.
messages: install
	$(BIN)/python manage.py makemessages --locale sr_Latn --locale en --no-obsolete \
		--ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*'
	$(BIN)/python manage.py compile_translations

clean:
	rm -rf var
