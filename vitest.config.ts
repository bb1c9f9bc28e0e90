import { defineConfig } from "vitest/config";

// Two projects: the default suite (fast, fakes only) and the real-CLI check, which drives the
// official `@openai/codex` binary against the loopback fake and takes tens of seconds.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
          exclude: ["**/*.real-cli.test.ts", "**/node_modules/**"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "real-cli",
          include: ["packages/*/test/**/*.real-cli.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
