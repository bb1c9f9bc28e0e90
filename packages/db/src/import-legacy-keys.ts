import { eq } from "drizzle-orm";
import type { Database } from "./create-db.js";
import type { ImportLegacyReport } from "./import-legacy.js";
import { type LegacySource, quoteIdentifier } from "./legacy-source.js";
import {
  LEGACY_KEY_SCOPES,
  LEGACY_ORIGIN,
  parseLegacyBoolean,
  parseLegacyTimestamp,
  sanitizeId,
  stringOrUndefined,
} from "./legacy-values.js";
import { apiKeys } from "./schema/index.js";

type Row = Record<string, unknown>;

export interface LegacyKeyRef {
  id: string;
  name: string;
}

/** Legacy key id → the codex-img key now holding that hash. */
export type LegacyKeyMap = Map<string, LegacyKeyRef>;

/**
 * Imports the predecessor's API keys under the same SHA-256 (so the raw `cimg_` tokens keep working); a
 * hash already present is skipped. Returns which codex-img key each legacy key id now is.
 */
export async function importLegacyKeys(
  database: Database,
  source: LegacySource,
  now: number,
  report: ImportLegacyReport,
): Promise<LegacyKeyMap> {
  const map: LegacyKeyMap = new Map();
  const table = source.keys;
  if (!table) {
    report.warnings.push("no API key table (api_keys with a hash column) found in the legacy file");
    return map;
  }
  const c = table.columns;
  if (c.requestsCount) {
    report.warnings.push(`${c.requestsCount} not imported: the predecessor counted every poll as a request`);
  }
  const rows = (await source.client.execute(`SELECT * FROM ${quoteIdentifier(table.name)}`)).rows as Row[];
  for (const [index, row] of rows.entries()) {
    const legacyId = c.id ? String(row[c.id] ?? "") : "";
    const label = legacyId || `#${index + 1}`;
    const hash = String(row[c.hash as string] ?? "")
      .trim()
      .toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      report.warnings.push(`key ${label}: ${c.hash} is not a SHA-256 hex digest; skipped`);
      report.keys.skipped++;
      continue;
    }
    // The key store refuses names over 100 characters on update.
    const name = (stringOrUndefined(c.name && row[c.name]) ?? `legacy key ${label}`).slice(0, 100);
    const existing = await database.db
      .select({ id: apiKeys.id, name: apiKeys.name })
      .from(apiKeys)
      .where(eq(apiKeys.hash, hash));
    if (existing[0]) {
      if (legacyId) map.set(legacyId, existing[0]);
      report.keys.skipped++;
      continue;
    }
    const id = `key_legacy_${sanitizeId(legacyId || hash.slice(0, 16))}`;
    const enabled = keyEnabled(row, c);
    const inserted = await database.db
      .insert(apiKeys)
      .values({
        id,
        name,
        hash,
        prefix: stringOrUndefined(c.prefix && row[c.prefix]) ?? "cimg_",
        scopes: [...LEGACY_KEY_SCOPES],
        enabled,
        createdAt: parseLegacyTimestamp(c.createdAt && row[c.createdAt]) ?? now,
        lastUsedAt: parseLegacyTimestamp(c.lastUsedAt && row[c.lastUsedAt]) ?? null,
        origin: LEGACY_ORIGIN,
      })
      .onConflictDoNothing()
      .returning({ id: apiKeys.id });
    if (inserted.length === 0) {
      report.warnings.push(`key ${label}: the id ${id} is taken by another key; skipped`);
      report.keys.skipped++;
      continue;
    }
    if (legacyId) map.set(legacyId, { id, name });
    report.keys.imported++;
  }
  return map;
}

function keyEnabled(row: Row, c: NonNullable<LegacySource["keys"]>["columns"]): boolean {
  if (c.enabled) return parseLegacyBoolean(row[c.enabled]) ?? true;
  if (c.disabled && parseLegacyBoolean(row[c.disabled])) return false;
  if (c.disabledAt && row[c.disabledAt] !== null && row[c.disabledAt] !== undefined) return false;
  return true;
}
