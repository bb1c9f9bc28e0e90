import { z } from "zod";
import { httpUrl, intRange, spec } from "./setting-spec.js";

/**
 * Where the service listens, where it keeps its data and database, and its admin login.
 * Part of `SETTINGS`, in its order.
 */
export const SERVICE_SETTINGS = {
  host: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("127.0.0.1"),
    kind: "string",
    flag: "host",
    env: "CODEX_IMG_HOST",
    legacyEnv: [],
    defaultText: "127.0.0.1",
    description:
      "Address to listen on. Anything other than loopback needs a strong admin password (see adminPassword).",
  }),
  port: spec({
    schema: intRange(0, 65_535).default(8000),
    kind: "integer",
    flag: "port",
    env: "CODEX_IMG_PORT",
    legacyEnv: ["PORT"],
    defaultText: "8000",
    description: "TCP port to listen on; 0 picks a free one. `PORT` is honoured for hosting platforms.",
  }),
  publicBaseUrl: spec({
    schema: httpUrl.optional(),
    kind: "string",
    flag: "public-base-url",
    env: "CODEX_IMG_PUBLIC_BASE_URL",
    legacyEnv: ["PUBLIC_BASE_URL"],
    defaultText: "http://<host>:<port>",
    description:
      "The URL callers reach the server at, including any path prefix of a reverse proxy. Image URLs in replies start with it.",
  }),
  basePath: spec({
    schema: z
      .string()
      .regex(/^(\/[^/\s?#]+)*$/, { error: 'must be empty or a path like "/codex-image" (no trailing slash)' })
      .optional(),
    kind: "string",
    flag: "base-path",
    env: "CODEX_IMG_BASE_PATH",
    legacyEnv: ["ADMIN_URL_PREFIX"],
    defaultText: "path of publicBaseUrl",
    description:
      "Path prefix a reverse proxy serves the app under; used for dashboard links and the session cookie path.",
  }),
  dataDir: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("./data"),
    kind: "string",
    flag: "data-dir",
    env: "CODEX_IMG_DATA_DIR",
    legacyEnv: ["DATA_DIR"],
    defaultText: "./data",
    description:
      "Folder for images, the local database, the generated session secret and config.json; relative to the working folder.",
  }),
  databaseUrl: spec({
    schema: z
      .string()
      .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/, {
        error: "must start with file:, libsql://, https:// or wss://",
      })
      .optional(),
    kind: "string",
    flag: "database-url",
    env: "CODEX_IMG_DATABASE_URL",
    legacyEnv: ["DATABASE_URL"],
    defaultText: "file:<dataDir>/codex-img.db",
    description: "libSQL database: a local `file:` path, or `libsql://…` for Turso (with databaseAuthToken).",
  }),
  databaseAuthToken: spec({
    schema: z.string().optional(),
    kind: "string",
    flag: "database-auth-token",
    env: "CODEX_IMG_DATABASE_AUTH_TOKEN",
    legacyEnv: ["DATABASE_AUTH_TOKEN"],
    secret: true,
    defaultText: "not set",
    description: "Auth token of a remote (Turso) database or of the sync URL.",
  }),
  databaseSyncUrl: spec({
    schema: z
      .string()
      .regex(/^(libsql:\/\/|https?:\/\/|wss?:\/\/)/, {
        error: "must start with libsql://, https:// or wss://",
      })
      .optional(),
    kind: "string",
    flag: "database-sync-url",
    env: "CODEX_IMG_DATABASE_SYNC_URL",
    legacyEnv: ["DATABASE_SYNC_URL"],
    defaultText: "not set",
    description:
      "Remote database an embedded replica syncs with; needs a `file:` databaseUrl. For read-heavy setups.",
  }),
  databaseSyncIntervalSeconds: spec({
    schema: intRange(1, 86_400).default(60),
    kind: "integer",
    flag: "database-sync-interval-seconds",
    env: "CODEX_IMG_DATABASE_SYNC_INTERVAL_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "60",
    description: "How often an embedded replica pulls from databaseSyncUrl.",
  }),
  adminPassword: spec({
    schema: z.string().optional(),
    kind: "string",
    flag: "admin-password",
    env: "CODEX_IMG_ADMIN_PASSWORD",
    legacyEnv: ["ADMIN_PASSWORD"],
    secret: true,
    defaultText: "not set",
    description:
      "Password of the dashboard. Required (12+ characters, not a known default) to listen beyond loopback.",
  }),
  sessionSecret: spec({
    schema: z
      .string()
      .min(16, { error: "must be at least 16 characters (leave it unset to have one generated)" })
      .optional(),
    kind: "string",
    flag: "session-secret",
    env: "CODEX_IMG_SESSION_SECRET",
    legacyEnv: ["ADMIN_SESSION_SECRET"],
    secret: true,
    defaultText: "generated, kept in dataDir",
    description:
      "Key that signs admin session cookies and signed image URLs. When unset, a random one is generated once and kept in the data folder.",
  }),
};
