#!/bin/sh
# Weekly keep-fresh of codex-img's Codex logins: refreshes each home once, one after the other, through
# codex-img's own refresh (codex-img-auth.lock, re-read under the lock, atomic 0600 write), so it is safe
# while the server runs. Prints one line per home, never a token.
# Exit: 0 all fresh, 1 a home needs `codex login`, 2 configuration problem, 3 try again later.
#
# Give it the server's environment (CODEX_HOMES, …): systemd's EnvironmentFile, or in a container
#   docker compose -f deploy/compose.yaml exec codex-img deploy/keep-fresh.sh
#
# Do NOT replace this with `codex --version` / `codex login status` loops over the homes (the
# predecessor's cron): the official CLI refreshes without codex-img's lock, and two refreshes of one
# login spend its single-use refresh token twice, which can make OpenAI revoke every session of it.
set -eu
cd "$(dirname "$0")/.."
BUN="${BUN:-$(command -v bun || echo /usr/local/bin/bun)}"
exec "$BUN" --conditions=source deploy/keep-fresh.ts "$@"
