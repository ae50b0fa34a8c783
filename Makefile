# yinli — two commands on a fresh machine: `make demo` and `make test`. Each sets up everything first.
PYTHON ?= python3
UV := $(PYTHON) -m uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup browser demo test test-postgres lint format serve clean

# Install uv with pip when missing, then create .venv exactly from uv.lock.
setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv>=0.5"
	@$(UV) sync --frozen --quiet

demo: setup
	$(UV) run --frozen yinli demo --host $(HOST) --port $(PORT)

serve: setup
	$(UV) run --frozen yinli serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (plus a CJK font for readable screenshots); install it with apt
# when absent and possible. Without it the browser tests skip, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) || \
		echo "no chromium: browser tests will skip"

# The suite on the embedded default (SQLite); set YINLI_TEST_DATABASE_URL to run it on PostgreSQL.
test: setup browser
	$(UV) run --frozen pytest

test-postgres: setup browser
	YINLI_TEST_DATABASE_URL=$${YINLI_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(UV) run --frozen pytest

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy src
	$(UV) run --frozen lint-imports

format: setup
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean:
	rm -rf var .pytest_cache .hypothesis
