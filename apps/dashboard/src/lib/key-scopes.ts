import type { KeyScope } from "./api-types";

/** Mirrors `KEY_SCOPES` of packages/db (a runtime import from the server is not allowed here). */
export const KEY_SCOPES: readonly KeyScope[] = ["generate", "edit", "vision", "jobs:read", "admin"];

/** A new key can generate, edit and read its jobs; `admin` is opt-in. */
export const DEFAULT_KEY_SCOPES: readonly KeyScope[] = ["generate", "edit", "vision", "jobs:read"];
