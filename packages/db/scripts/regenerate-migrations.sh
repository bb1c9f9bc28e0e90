#!/usr/bin/env bash
# Rebuilds migrations/ from src/schema while nothing has been released: 0000_init from the Drizzle
# schema, then the two hand-written migrations drizzle-kit cannot express, kept from the committed
# folder: 0001_prompt_search (FTS5 + triggers) and 0002_image_keys (triggers). Later generated migrations
# are folded into 0000_init. Once a release ships, stop using this and add migrations with
# `bun run --cwd packages/db generate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
cp migrations/0001_prompt_search.sql migrations/0002_image_keys.sql "$keep"/
rm -rf migrations
node_modules/.bin/drizzle-kit generate --name init >/dev/null
node_modules/.bin/drizzle-kit generate --custom --name prompt_search >/dev/null
cp "$keep"/0001_prompt_search.sql migrations/0001_prompt_search.sql
node_modules/.bin/drizzle-kit generate --custom --name image_keys >/dev/null
cp "$keep"/0002_image_keys.sql migrations/0002_image_keys.sql
ls migrations
