#!/usr/bin/env bash
# Dex, the OpenID Connect provider the web client's sign-in tests run against, built from source
# through the Go module proxy into .cache/dex/bin/dex. The stamp holds the pinned version: a
# second run builds nothing. Called by scripts/setup.sh; on its own: scripts/build-dex.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The only Dex the module proxy serves that still builds: tags v2.14+ are not valid module
# versions (Dex's go.mod says `module github.com/dexidp/dex`, not /v2), and v2.13.0+incompatible
# (2018) no longer compiles. This pseudo-version is commit ab64ed778070 of 2026-08-06.
DEX_VERSION=v0.0.0-20260806151424-ab64ed778070

dex_dir=$PWD/.cache/dex
bin=$dex_dir/bin/dex
stamp=$dex_dir/version
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$DEX_VERSION" ]; then
  log "Dex $DEX_VERSION in ${bin#"$PWD"/}"
  exit 0
fi
# Go from go.dev's tarball lives in /usr/local/go; Debian 12's golang-go (1.19) is too old.
[ -d /usr/local/go/bin ] && export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "scripts/build-dex.sh: Go 1.25 or newer is needed to build Dex (https://go.dev/dl/)" >&2
  exit 1
fi

log "building Dex $DEX_VERSION from the Go module proxy into ${bin#"$PWD"/} (a few minutes, once)"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
build=$dex_dir/build
mkdir -p "$build" "$dex_dir/bin"
cd "$build"
[ -f go.mod ] || go mod init dexbuild >/dev/null 2>&1
nice -n 19 go get -tool "github.com/dexidp/dex/cmd/dex@$DEX_VERSION"
src=$(go mod download -json "github.com/dexidp/dex@$DEX_VERSION" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')

# Dex's go.mod replaces its nested api/v2 module with ./api/v2, which the module zip lacks, and
# the proxy's api/v2 v2.4.0 lacks the gRPC admin API types this commit uses. The admin API is
# optional (tests and sign-in never use it): build a copy of the source without it.
rm -rf dex-src
cp -r "$src" dex-src
chmod -R u+w dex-src
python3 - dex-src/cmd/dex/serve.go <<'PY'
import sys

path = sys.argv[1]
text = open(path).read()
for line in (
    '\t"github.com/dexidp/dex/api/v2"\n',
    '\t"github.com/dexidp/dex/server/apiserver"\n',
    "\t\tapi.RegisterDexServer(grpcSrv, apiserver.NewAPI(serverConfig.Storage, logger, version,"
    " serv.Connectors(), serv.Discovery(), serv.Backchannel()))\n",
):
    assert line in text, f"serve.go changed: {line.strip()!r} not found"
    text = text.replace(line, "", 1)
open(path, "w").write(text)
PY
go mod edit -replace github.com/dexidp/dex=./dex-src
nice -n 19 go build -trimpath -ldflags="-s -w" -o "$bin.new" github.com/dexidp/dex/cmd/dex
mv "$bin.new" "$bin"
echo "$DEX_VERSION" > "$stamp"
log "Dex: $("$bin" version 2>&1 | head -1)"
