/** @codex-img/db: codex-img's persistence on libSQL. */
export * from "./create-db.js";
export * from "./schema/index.js";
