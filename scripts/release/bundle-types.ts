import { join } from "node:path";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

/**
 * A package's declarations as one `index.d.ts`, with the types it borrows from the workspace packages in
 * `inline` copied in (only the declarations it reaches). The client's types name the API's `AppRouter` and
 * views, and the API is a server that no tarball carries: inlined, they type-check for a user who installed
 * only the client. Throws when the result still imports a module that is not in `dependencies`, since a
 * user's `tsc` would then fail on it (or, with `skipLibCheck`, quietly turn the types into `any`).
 */
export async function bundleTypes(
  packageDir: string,
  inline: readonly string[],
  dependencies: readonly string[],
): Promise<string> {
  const bundle = await rollup({
    input: join(packageDir, "dist/index.d.ts"),
    plugins: [
      dts({
        includeExternal: [...inline],
        tsconfig: join(packageDir, "tsconfig.json"),
        // The built declarations, not the workspace's `source` condition (which points at `src/*.ts`).
        compilerOptions: { customConditions: [] },
      }),
    ],
  });
  try {
    const { output } = await bundle.generate({ format: "es" });
    const code = output[0].code;
    const specifiers = code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["']([^"']+)["']/gm);
    const imported = new Set([...specifiers].map((match) => match[1] ?? ""));
    const strays = [...imported].filter(
      (specifier) => !dependencies.some((name) => specifier === name || specifier.startsWith(`${name}/`)),
    );
    if (strays.length > 0) {
      throw new Error(`the bundled types import ${strays.join(", ")}, which the package does not depend on`);
    }
    return code;
  } finally {
    await bundle.close();
  }
}
