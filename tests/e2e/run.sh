#!/usr/bin/env bash
# End-to-end tests against the real `portcullis` binary.
#
#   tests/e2e/run.sh [sqlite | postgres://ADMIN-URL]
#
# The database comes from the argument, else from E2E_DATABASE, else SQLite (a fresh file per
# session). A PostgreSQL admin URL (e.g. postgres://postgres@127.0.0.1/postgres) gets a throwaway
# database e2e_<random>, dropped at the end. The binary is PORTCULLIS_BIN (default
# target/debug/portcullis, built beforehand with `cargo build`). Needs /usr/bin/chromium and
# /usr/bin/chromedriver (apt-get install -y chromium chromium-driver) and npm, which installs the
# pinned axe-core (package-lock.json) into tests/e2e/node_modules. Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ $# -gt 0 && "$1" != -* ]]; then
    export E2E_DATABASE="$1"
    shift
fi
export E2E_DATABASE="${E2E_DATABASE:-sqlite}"

venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

# axe-core for the accessibility checks, exactly as locked; skipped when already in place.
locked_axe="$(node -p "require('$here/package-lock.json').packages['node_modules/axe-core'].version")"
installed_axe="$(node -p "try { require('$here/node_modules/axe-core/package.json').version } catch { '' }")"
if [[ "$installed_axe" != "$locked_axe" ]]; then
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi

cd "$repo"
case "$E2E_DATABASE" in
    sqlite) echo "e2e: SQLite, binary ${PORTCULLIS_BIN:-target/debug/portcullis}" ;;
    *) echo "e2e: PostgreSQL (throwaway database), binary ${PORTCULLIS_BIN:-target/debug/portcullis}" ;;
esac
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" "$@"
