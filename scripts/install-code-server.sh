#!/usr/bin/env bash
# Installs code-server (a real VS Code: server + web workbench) into a cache folder outside the repo,
# so the extension-host tests and the UI tests can run on machines that cannot download desktop
# VS Code. Idempotent: does nothing when the cached install is present and starts.
#
#   scripts/install-code-server.sh            # install or verify
#   scripts/install-code-server.sh --print    # print the cache folder and exit
#   scripts/install-code-server.sh --force    # reinstall
#
# Environment:
#   TASKMEM_CODE_SERVER_CACHE   cache folder (default $HOME/.cache/taskmem/code-server-<version>)
#   TASKMEM_RIPGREP_VERSIONS    @vscode/ripgrep versions to pre-seed (default: the one code-server pulls in)
#
# Needs Node 20, and the Debian packages listed in REQUIRED_PACKAGES (build deps of code-server's
# native modules, ripgrep for the @vscode/ripgrep cache, chromium for the tests).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
# code-server 4.100.3 -> lib/vscode depends on @vscode/ripgrep 1.15.11, whose postinstall wants
# ripgrep v13.0.0-10. Checked after install below.
RIPGREP_VERSIONS="${TASKMEM_RIPGREP_VERSIONS:-1.15.11}"
RIPGREP_ASSET_VERSION=v13.0.0-10
REQUIRED_PACKAGES=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium)

CACHE="${TASKMEM_CODE_SERVER_CACHE:-$HOME/.cache/taskmem/code-server-$CODE_SERVER_VERSION}"
ENTRY="$CACHE/node_modules/code-server/out/node/entry.js"
MARKER="$CACHE/.taskmem-install-ok"

log() { printf '[install-code-server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --print) echo "$CACHE"; exit 0 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

VSCODE_DIR="$CACHE/node_modules/code-server/lib/vscode"

# First line of `--version` that looks like a version (the first run may log other lines first).
cs_version() {
  # XDG_CONFIG_HOME: code-server writes a config.yaml (with a password) on its first run
  local x
  x="$(mktemp -d)"
  (cd "$x" && XDG_CONFIG_HOME="$x" XDG_DATA_HOME="$x" node "$ENTRY" --version 2>/dev/null) | awk '/^[0-9]+\.[0-9]+\.[0-9]+ /{print $1; exit}'
  rm -rf "$x"
}

installed() {
  [[ -f "$ENTRY" ]] || return 1
  [[ "$(cs_version)" == "$CODE_SERVER_VERSION" ]] || return 1
  # the postinstall built VS Code's own dependencies (native modules, rg)
  [[ -f "$VSCODE_DIR/node_modules/node-pty/package.json" && -x "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin/rg" ]]
}

works() { [[ -f "$MARKER" ]] && installed; }

if [[ $force == 0 ]] && works; then
  log "code-server $CODE_SERVER_VERSION already installed in $CACHE"
  exit 0
fi

# --- prerequisites ---------------------------------------------------------------------------
command -v node >/dev/null || die "node is not on PATH (Node 20 is required)"
command -v npm >/dev/null || die "npm is not on PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" == 20 ]] || die "code-server $CODE_SERVER_VERSION needs Node 20, found $(node --version)"

missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${REQUIRED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
else
  log "dpkg-query not found: cannot check packages; make sure these are installed: ${REQUIRED_PACKAGES[*]}"
fi
if ((${#missing[@]})); then
  die "missing packages: ${missing[*]}
  install them with: apt-get install -y ${missing[*]}"
fi
RG="$(command -v rg || true)"
[[ -n "$RG" ]] || die "rg (ripgrep) not found on PATH"

# --- @vscode/ripgrep cache trick -------------------------------------------------------------
# @vscode/ripgrep's postinstall downloads rg from GitHub unless it finds the release archive in
# os.tmpdir()/vscode-ripgrep-cache-<package version>/. Put Debian's rg there instead.
tmp_root="$(node -p 'require("os").tmpdir()')"
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
rg_asset="ripgrep-$RIPGREP_ASSET_VERSION-$rg_target.tar.gz"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$RG" "$stage/rg"
for v in $RIPGREP_VERSIONS; do
  dir="$tmp_root/vscode-ripgrep-cache-$v"
  mkdir -p "$dir"
  if [[ ! -s "$dir/$rg_asset" ]]; then
    tar -czf "$dir/$rg_asset" -C "$stage" rg
    log "seeded $dir/$rg_asset from $RG"
  fi
done

# --- install ---------------------------------------------------------------------------------
log "installing code-server@$CODE_SERVER_VERSION into $CACHE (about 3 minutes)"
rm -f "$MARKER"
# a previous partial install would make npm say "up to date" without running the postinstall
rm -rf "$CACHE/node_modules" "$CACHE/package-lock.json"
mkdir -p "$CACHE"
[[ -f "$CACHE/package.json" ]] || echo '{ "name": "taskmem-code-server-cache", "private": true }' >"$CACHE/package.json"
start=$SECONDS
# unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty runs `npx node-gyp`.
# dangerously_allow_all_scripts: npm >= 11.? skips dependency install scripts unless allowed, and
# code-server's postinstall runs nested `npm install`s (lib/vscode, its extensions) whose native
# modules must build; the env var reaches those nested installs too. Older npm ignores it.
if ! (cd "$CACHE" && npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false \
      npm_config_dangerously_allow_all_scripts=true \
      npm_config_audit=false npm_config_update_notifier=false \
      npm install --no-save --omit=dev "code-server@$CODE_SERVER_VERSION"); then
  die "npm install code-server@$CODE_SERVER_VERSION failed (see above). If @vscode/ripgrep tried to
  download from GitHub, its version differs from TASKMEM_RIPGREP_VERSIONS='$RIPGREP_VERSIONS':
  set TASKMEM_RIPGREP_VERSIONS to the version in the error and rerun."
fi

rg_pkg="$CACHE/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/package.json"
if [[ -f "$rg_pkg" ]]; then
  got="$(node -p "require(process.argv[1]).version" "$rg_pkg")"
  [[ " $RIPGREP_VERSIONS " == *" $got "* ]] || log "note: code-server uses @vscode/ripgrep $got (seeded: $RIPGREP_VERSIONS)"
fi

v="$(cs_version)" || true
[[ "$v" == "$CODE_SERVER_VERSION" ]] || die "installed code-server does not start (entry.js --version gave '$v')"
installed || die "code-server's postinstall did not install VS Code's dependencies in $VSCODE_DIR"
touch "$MARKER"
log "code-server $v installed in $CACHE in $((SECONDS - start)) s"
