import type { ApiServices } from "@codex-img/api";

/**
 * On a fresh installation nobody can call the API yet (keys are created by an admin). So the first start
 * creates one key and prints it once on the server's own console, the same way the predecessor showed
 * a key once at creation; it is audited like any other key.
 */
export async function createFirstKeyIfNone(services: ApiServices): Promise<string | undefined> {
  if ((await services.keys.list()).length > 0) return undefined;
  const { key, rawKey } = await services.keys.create({
    name: "first key",
    scopes: ["generate", "edit", "vision", "jobs:read"],
  });
  await services.audit.record({
    actor: "system",
    action: "key.create",
    targetType: "key",
    targetId: key.id,
    details: { name: key.name, reason: "first start" },
  });
  return rawKey;
}
