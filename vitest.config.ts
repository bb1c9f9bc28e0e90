import { defineConfig } from "vitest/config";

// Three projects: the default suite (fast, fakes only), the real-CLI check, which drives the official
// `@openai/codex` binary against the loopback fake, and the dashboard in a real Chromium.
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
          exclude: ["**/*.real-cli.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
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
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["apps/*/test/**/*.e2e.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
