#!/usr/bin/env bun
/**
 * `bun run import-legacy --from old.sqlite [--database file:./data/codex-img.db] [--images-dir DIR]
 * [--copy-images-to DIR]`: imports a codex-image-service database and prints the report as JSON.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createFileImageStore } from "@codex-img/core";
import { createDb, DEFAULT_DATABASE_URL } from "../create-db.js";
import { importLegacyDatabase } from "../import-legacy.js";

const USAGE = `usage: import-legacy --from <codex-image-service.sqlite> [options]

  --from <path>             the predecessor's SQLite file (read from a copy, never modified)
  --database <url>          codex-img database (default $DATABASE_URL or ${DEFAULT_DATABASE_URL})
  --auth-token <token>      Turso token (default $DATABASE_AUTH_TOKEN)
  --images-dir <dir>        the predecessor's image folder (its static/generated)
  --copy-images-to <dir>    codex-img's image folder: copy found images in so they are served
  --help                    this text
`;

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.from) {
    process.stderr.write(`--from is required\n\n${USAGE}`);
    return 2;
  }
  // Fail before createDb makes an empty database for a mistyped path.
  await access(values.from, constants.R_OK);
  const authToken = values["auth-token"] ?? process.env.DATABASE_AUTH_TOKEN;
  const database = await createDb({
    url: values.database ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    ...(authToken ? { authToken } : {}),
  });
  try {
    const copyTo = values["copy-images-to"];
    const report = await importLegacyDatabase({
      database,
      legacyPath: values.from,
      ...(values["images-dir"] ? { imagesDir: values["images-dir"] } : {}),
      ...(copyTo ? { imageStore: createFileImageStore({ dir: copyTo }) } : {}),
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    database.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      from: { type: "string" },
      database: { type: "string" },
      "auth-token": { type: "string" },
      "images-dir": { type: "string" },
      "copy-images-to": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`import-legacy failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
