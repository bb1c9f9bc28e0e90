#!/usr/bin/env bash
# Rebuilds migrations/ from src/schema while nothing has been released: 0000_init from the Drizzle
# schema, then 0001_prompt_search (FTS5 + triggers, which drizzle-kit cannot express) from
# scripts/prompt-search.sql, and 0002_image_keys (triggers) from scripts/image-keys.sql. Once a
# release ships, stop using this and add migrations with `bun run --cwd packages/db generate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf migrations
node_modules/.bin/drizzle-kit generate --name init >/dev/null
node_modules/.bin/drizzle-kit generate --custom --name prompt_search >/dev/null
cp scripts/prompt-search.sql migrations/0001_prompt_search.sql
node_modules/.bin/drizzle-kit generate --custom --name image_keys >/dev/null
cp scripts/image-keys.sql migrations/0002_image_keys.sql
ls migrations
