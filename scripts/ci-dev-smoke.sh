#!/usr/bin/env bash
# Starts `npm run dev` exactly as a developer would (embedded PGlite, no DATABASE_URL), waits for
# /api/health to answer {"status":"ok"} with all three checks and the fake 100ms to answer on 8790,
# runs the post-deployment smoke test against it (`npm run smoke`: any failed check fails CI), then
# stops it with Ctrl-C (SIGINT) and checks nothing is left listening.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)

env -u DATABASE_URL setsid npm run dev >"$log" 2>&1 &
pid=$!
cleanup() { kill -INT -- "-$pid" 2>/dev/null || true; }
trap cleanup EXIT

health=''
for _ in $(seq 1 120); do
  health=$(curl -fsS http://127.0.0.1:8787/api/health 2>/dev/null || true)
  case "$health" in *'"status":"ok"'*) break ;; esac
  if ! kill -0 "$pid" 2>/dev/null; then echo "npm run dev exited early:"; cat "$log"; exit 1; fi
  sleep 1
done
echo "health: $health"
case "$health" in *'"status":"ok"'*) ;; *) echo "npm run dev never became healthy:"; tail -50 "$log"; exit 1 ;; esac
for check in database storage rateLimiter; do
  case "$health" in *"\"$check\":{\"status\":\"ok\""*) ;; *) echo "check $check is not ok"; exit 1 ;; esac
done
# Read the whole page first: `curl | grep -q` fails under pipefail when grep stops reading early.
landing=$(curl -fsS http://127.0.0.1:8787/)
case "$landing" in *'Build software in the open'*) ;; *) echo "landing page missing"; exit 1 ;; esac
fake=$(curl -fsS http://127.0.0.1:8790/_fake/state)
case "$fake" in *'"rooms":'*) ;; *) echo "the fake 100ms does not answer on 8790: $fake"; exit 1 ;; esac
# The banner comes once the webhooks Worker is up too, a little after the app's health.
for _ in $(seq 1 60); do grep -q 'Kulti is running' "$log" && break; sleep 1; done
grep -q 'Fake 100ms http://127.0.0.1:8790' "$log" || { echo "the banner does not show the fake 100ms:"; tail -30 "$log"; exit 1; }
# The post-deployment checks, as an operator runs them after a deploy (docs/deployment.md).
npm run --silent smoke -- http://127.0.0.1:8787 || { echo "npm run smoke failed against npm run dev"; exit 1; }

kill -INT -- "-$pid"
trap - EXIT
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$pid" 2>/dev/null; then echo "npm run dev did not stop on Ctrl-C"; kill -KILL -- "-$pid"; exit 1; fi
if curl -s -o /dev/null http://127.0.0.1:8787/ || curl -s -o /dev/null http://127.0.0.1:8788/ ||
  curl -s -o /dev/null http://127.0.0.1:8790/_fake/state; then
  echo "something is still listening on 8787/8788/8790 after Ctrl-C"; exit 1
fi
rm -f "$log"
echo "npm run dev: healthy on embedded PGlite, stopped cleanly"
