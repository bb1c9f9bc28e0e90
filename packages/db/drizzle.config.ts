import { defineConfig } from "drizzle-kit";

// `bun run --cwd packages/db generate` writes a new migration from src/schema after a schema change.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/schema/index.ts",
  out: "./migrations",
});
