// The dashboard's end-to-end tests drive Debian's Chromium through playwright-core (Playwright's own
// browser download is not available here). This installs the `chromium` package when it is missing and
// the machine can (root, or password-less sudo, with apt-get); otherwise it says what to install.
// `CHROMIUM_PATH` points the tests at another Chromium or Chrome binary.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
if (CANDIDATES.some((path) => path && existsSync(path))) process.exit(0);

const hasApt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const canSudo = !isRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
if (!hasApt || !(isRoot || canSudo)) {
  console.error(
    "Chromium is needed for the dashboard tests: install Debian's `chromium` package (apt-get install chromium),\n" +
      "or set CHROMIUM_PATH to a Chromium or Chrome binary.",
  );
  process.exit(1);
}
const run = (args) => {
  const [file, ...rest] = isRoot ? args : ["sudo", "-n", ...args];
  // A mirror hiccup should not fail a whole CI run: three tries, a few seconds apart.
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(file, rest, {
        stdio: "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
      console.error(`${args.join(" ")} failed (try ${attempt} of 3); trying again…`);
      execFileSync("sleep", [String(5 * attempt)]);
    }
  }
};
console.error("Installing Chromium from Debian's packages for the dashboard tests…");
run(["apt-get", "update", "-qq"]);
run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]);
