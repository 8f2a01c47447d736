#!/usr/bin/env bash
# Starts `npm start` exactly as a newcomer would (no configuration at all, a
# fresh embedded database), waits for it, and checks it serves the catalogue
# and prints an admin token that works.
set -euo pipefail
cd "$(dirname "$0")/.."
workdir=$(mktemp -d)
log="$workdir/start.log"
port=$((20000 + RANDOM % 20000))
# Its own process group, so that npm and the server under it stop together.
setsid env -u DATABASE_URL -u UPSTREAM_API_KEY -u ADMIN_TOKEN -u REDIS_URL PORT=$port \
  DATABASE_URL="$workdir/pglite" npm start >"$log" 2>&1 &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$workdir"' EXIT
for _ in $(seq 1 120); do
  grep -q 'Admin token' "$log" && break
  kill -0 $pid 2>/dev/null || { cat "$log"; echo "smoke: npm start exited"; exit 1; }
  sleep 0.5
done
token=$(sed -n 's/.*Admin token (generated for this run): \(\S*\).*/\1/p' "$log")
[ -n "$token" ] || { cat "$log"; echo "smoke: no admin token printed"; exit 1; }
grep -q "http://localhost:$port/graphql" "$log" || { cat "$log"; echo "smoke: no GraphiQL URL printed"; exit 1; }
models=$(curl -sf "http://localhost:$port/graphql" -H 'content-type: application/json' \
  -d '{"query":"{ models { id } }"}' | grep -o '"id"' | wc -l)
[ "$models" -eq 10 ] || { echo "smoke: expected 10 models, got $models"; exit 1; }
viewer=$(curl -sf "http://localhost:$port/graphql" -H 'content-type: application/json' \
  -H "authorization: Bearer $token" -d '{"query":"{ viewer { id } }"}')
[ "$viewer" = '{"data":{"viewer":null}}' ] || { echo "smoke: admin token refused: $viewer"; exit 1; }
echo "smoke: npm start serves 10 models on embedded PGlite; the printed admin token works"
