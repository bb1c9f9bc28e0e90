import type { SettingName, Settings } from "@codex-img/db";
import { settingsUpdateInput } from "../schemas.js";
import { adminProcedure, auditAdmin } from "../trpc.js";

export const settingsRouter = {
  get: adminProcedure.query(({ ctx }) => ctx.services.settings.getAll()),

  /** Only the settings given change; each is validated by the store as well. */
  update: adminProcedure.input(settingsUpdateInput).mutation(async ({ ctx, input }) => {
    const { settings, pool } = ctx.services;
    const before = await settings.getAll();
    const names = Object.keys(input) as SettingName[];
    for (const name of names) {
      await settings.set(name, input[name] as Settings[typeof name]);
    }
    if (input.dispatchMode) pool?.setMode(input.dispatchMode);
    const after = await settings.getAll();
    // Image URLs carry their expiry and `/generated` checks it: follow the new retention at once here
    // (other instances read it at their next start; the sweep reads it on every pass).
    ctx.services.options.imageRetentionMs = after.retentionDays * 86_400_000;
    await auditAdmin(
      ctx,
      "settings.update",
      { type: "setting", id: names.join(",") },
      { before: pick(before, names), after: pick(after, names) },
    );
    return after;
  }),
};

function pick(settings: Settings, names: readonly SettingName[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, settings[name]]));
}
