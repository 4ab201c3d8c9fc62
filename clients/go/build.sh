#!/usr/bin/env bash
# Builds the Go client's commands offline against Debian's Go packages (GOPATH mode over
# /usr/share/gocode; scripts/install-debian-packages installs them): no module proxy needed.
# Usage: clients/go/build.sh OUT_DIR   (writes OUT_DIR/live and OUT_DIR/readandlock)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
module=github.com/fapiao-gateway/fapiao-gateway/clients/go
gopath="$out/gopath"
mkdir -p "$gopath/src/$(dirname "$module")"
ln -sfn "$here" "$gopath/src/$module"
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode"
export GOCACHE="${GOCACHE:-$out/go-build}"
cd "$gopath/src/$module"
go vet ./gateway/... ./test/... ./examples/...
go build -o "$out/live" ./test/live
go build -o "$out/readandlock" ./examples/readandlock
