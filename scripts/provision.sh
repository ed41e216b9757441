#!/usr/bin/env bash
# What `npm test` needs on the machine, checked (and installed when it can be) before any test runs:
#   - Node 20 (code-server 4.100.3 runs the extension host on it)
#   - the Debian packages below
#   - code-server 4.100.3 in a cache folder outside the repo (scripts/install-code-server.sh)
# As root on Debian it installs what is missing (apt-get); otherwise it stops at once and prints the
# exact command to run. Idempotent and quick when everything is there: `npm test` runs it first.
#
#   bash scripts/provision.sh           # check, install what is missing (root)
#   bash scripts/provision.sh --print   # print the Debian package list and exit
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEBIAN_PACKAGES=(
  # code-server's native modules (node-gyp) and @vscode/ripgrep (uses Debian's rg, see install-code-server.sh)
  build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep
  # the browser that drives the VS Code workbench and the panel in the tests
  chromium
  # the Python/Celery side of the profiler and its tests
  python3-celery python3-redis redis-server
  # tasks without code changes: RQ jobs, Flask and Django requests (test/engine/rq-worker, python-web-tasks)
  python3-rq python3-flask python3-django
  # the allocator that `taskmem ab --vary jemalloc` preloads (test/engine/ab.test.ts)
  libjemalloc2
  # checks of the Python agent (npm run lint:python)
  flake8 mypy
  # fetching: npm and code-server's nested installs, .ci/run's commit line
  ca-certificates git
)

log() { printf '[provision] %s\n' "$*" >&2; }
stop() {
  log "$1"
  log "run: $2"
  exit 1
}

if [[ "${1:-}" == --print ]]; then
  printf '%s\n' "${DEBIAN_PACKAGES[@]}"
  exit 0
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)"
if [[ "$node_major" != 20 ]]; then
  stop "Node 20 is required (code-server 4.100.3 runs the extension host on it); found: $node_major" \
    "install Node 20 with npm (e.g. from nodejs.org or nvm: nvm install 20), then npm ci && npm test"
fi

missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
else
  # Not Debian: check the commands the tests use, and name the Debian packages they come from.
  for pair in chromium:chromium redis-server:redis-server python3:python3 flake8:flake8 mypy:mypy rg:ripgrep cc:build-essential; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  python3 -c 'import celery, redis' 2>/dev/null || missing+=(python3-celery python3-redis)
  python3 -c 'import rq, flask, django' 2>/dev/null || missing+=(python3-rq python3-flask python3-django)
  if ((${#missing[@]})); then
    stop "missing: ${missing[*]} (Debian package names; this is not a Debian machine, so install their equivalents)" \
      "the equivalents of: apt-get install -y ${missing[*]}"
  fi
fi

if ((${#missing[@]})); then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
  else
    stop "missing Debian packages: ${missing[*]}" \
      "sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
fi

# code-server: installed into a cache folder in $HOME (no root needed), about 45 s once.
bash scripts/install-code-server.sh
