#!/usr/bin/env bash
# One-command setup on a fresh Debian machine: uv, the Python workspace, Apache Kafka's jars
# from Maven Central, and the Debian packages the local stack needs when they are missing.
# A second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# Installed, not merely known to dpkg (a removed package keeps its config files).
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

apt_updated=0
# apt_install [--apt-option...] package...: installs those not installed yet.
apt_install() {
  local options=() missing=()
  while [[ ${1:-} == --* ]]; do options+=("$1"); shift; done
  for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${options[@]}" "${missing[@]}"
}

# The deploy checks (tests/deploy) need two command-line tools: promtool, from Debian's
# prometheus, and docker-compose v1, whose `config` needs no Docker engine. Their packages
# would also bring a running Prometheus server (and recommend Docker and node-exporter), so they
# are installed without recommends and with a policy-rc.d forbidding maintainer scripts to start
# any service; under systemd the Prometheus unit is left disabled and stopped.
install_tools_without_daemons() {
  local missing=()
  for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/setup.sh: start no service while tools install\nexit 101\n' \
      | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    placed=1
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local status=0
  apt_install --no-install-recommends "${missing[@]}" || status=$?
  if [ $placed -eq 1 ]; then
    $sudo rm -f "$policy"
    trap - EXIT
  fi
  [ $status -eq 0 ] || return $status
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now --quiet prometheus.service || true
    else
      $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  fi
}

# Postgres and Redis: the stack reuses servers already listening on their standard ports,
# so the server packages are installed only when nothing answers there.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then apt_install postgresql; fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then apt_install redis-server; fi
# wrk and hey: the load generators of `make bench` (feed reads), in a process of their own.
apt_install postgresql-client redis-tools make wrk hey
install_tools_without_daemons prometheus docker-compose

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
# A pip-installed uv may not be on PATH yet (pyenv shims, ~/.local/bin): `python3 -m uv` is.
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi; }

log "uv sync (workspace and dev tools)"
uv sync --all-packages --frozen

# Apache Kafka (KRaft) for the local run, the tests and the benchmarks: the jars of the version
# pinned in deploy/kafka/pom.xml and their runtime dependencies, fetched by Maven from Maven
# Central into .cache/kafka/libs. The stamp is the pom's checksum: a changed pom fetches again.
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
command -v mvn >/dev/null 2>&1 || apt_install maven
kafka_dir=.cache/kafka
stamp="$kafka_dir/pom.sha256"
pom_sum=$(sha256sum deploy/kafka/pom.xml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$pom_sum" ] || ! compgen -G "$kafka_dir/libs/kafka_2.13-*.jar" >/dev/null; then
  log "Apache Kafka jars from Maven Central (deploy/kafka/pom.xml) into $kafka_dir/libs"
  rm -rf "$kafka_dir/libs"
  mvn -B -q -Dstyle.color=never -f deploy/kafka/pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$PWD/$kafka_dir/libs"
  echo "$pom_sum" > "$stamp"
fi
log "Apache Kafka $(basename "$kafka_dir"/libs/kafka_2.13-*.jar .jar | sed 's/kafka_2.13-//') in $kafka_dir/libs ($(java -version 2>&1 | head -1))"

# The web client's front-end packages, from the npm registry (services/web/package.json and its
# lock): htmx, which the pages load from the web client itself (never a CDN), and axe-core, which
# the browser tests run on every page.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
log "npm ci (services/web: front-end packages)"
npm ci --prefix services/web --no-audit --no-fund --loglevel=error
# Debian's Chromium for the browser tests and the page-load bench: Playwright drives this one
# (never a browser download).
apt_install chromium

# Dex, the OpenID Connect provider the sign-in tests run against: built once from source through
# the Go module proxy (needs Go 1.25+ on PATH).
scripts/build-dex.sh

log "done. Next: make test  (or: make up)"
