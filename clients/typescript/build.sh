#!/usr/bin/env bash
# Compiles the TypeScript client with its live test driver and example (tsc, strict) into an
# ES-module tree Node runs as is; the repository's node_modules (npm install) provides the
# packages. Usage: clients/typescript/build.sh OUT_DIR
#   then: node OUT_DIR/examples/read-and-lock.js ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if [ ! -x "$root/node_modules/.bin/tsc" ]; then
  echo "clients/typescript/build.sh: no node_modules/.bin/tsc; run npm install (make setup does)" >&2
  exit 2
fi
"$root/node_modules/.bin/tsc" -p "$here/tsconfig.live.json" --outDir "$out"
# Node resolves packages from the script's directory upwards; the output is ESM.
ln -sfn "$root/node_modules" "$out/node_modules"
echo '{"type": "module"}' > "$out/package.json"
