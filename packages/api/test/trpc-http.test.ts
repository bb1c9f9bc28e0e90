import { type ApiHarness, createApiHarness, type ServedFetch, serveFetch } from "@codex-img/api/testing";
import { fetchEventSource } from "@codex-img/client";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
} from "@trpc/client";
import { afterEach, describe, expect, it } from "vitest";
import type { AppRouter } from "../src/index.js";
import { ADMIN_PASSWORD } from "./support/trpc-admin.js";

let harness: ApiHarness | undefined;
let served: ServedFetch | undefined;

afterEach(async () => {
  await served?.close();
  await harness?.close();
  served = undefined;
  harness = undefined;
});

async function start(options: Parameters<typeof createApiHarness>[0] = {}): Promise<ServedFetch> {
  harness = await createApiHarness(options);
  const app = harness.app;
  served = await serveFetch((request) => app.fetch(request));
  return served;
}

/** A typed client that keeps the session cookie like a browser and sends the CSRF header once it has one. */
function browser(url: string): {
  client: TRPCClient<AppRouter>;
  setCookies: string[];
  jar: { cookie?: string; csrf?: string };
} {
  const jar: { cookie?: string; csrf?: string } = {};
  const setCookies: string[] = [];
  const cookies = new Map<string, string>();
  const withJar = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (jar.cookie) headers.set("cookie", jar.cookie);
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      setCookies.push(line);
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (value) cookies.set(name, value);
      else cookies.delete(name);
      jar.cookie = cookies.size === 0 ? undefined : [...cookies].map(([n, v]) => `${n}=${v}`).join("; ");
    }
    return response;
  };
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${url}/trpc`,
          EventSource: fetchEventSource(fetch, () =>
            jar.cookie ? { cookie: jar.cookie } : ({} as Record<string, string>),
          ),
        }),
        false: httpBatchLink({
          url: `${url}/trpc`,
          fetch: withJar,
          headers: () => (jar.csrf ? { "x-csrf-token": jar.csrf } : {}),
        }),
      }),
    ],
  });
  return { client, setCookies, jar };
}

async function failure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

describe("admin session over HTTP", () => {
  it("logs in with an HttpOnly SameSite=Strict cookie, needs CSRF for mutations, and logout ends it", async () => {
    const { url } = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const { client, setCookies, jar } = browser(url);

    const wrong = await failure(client.auth.login.mutate({ password: "nope" }));
    expect(wrong.data?.code).toBe("unauthorized");
    expect(wrong.data?.httpStatus).toBe(401);

    const { csrfToken } = await client.auth.login.mutate({ password: ADMIN_PASSWORD });
    const cookie = setCookies.find((line) => line.startsWith("codex_img_session=")) ?? "";
    expect(cookie).toMatch(/^codex_img_session=[^;]+;/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain("Secure");
    // The CSRF token also comes as a cookie the page's script can read (double submit), not HttpOnly.
    const csrfCookie = setCookies.find((line) => line.startsWith("codex_img_csrf=")) ?? "";
    expect(csrfCookie).toBe(`codex_img_csrf=${csrfToken}; Path=/; SameSite=Strict`);
    expect(await client.auth.me.query()).toMatchObject({ ip: "direct" });

    const refused = await failure(client.keys.create.mutate({ name: "bot", scopes: ["generate"] }));
    expect(refused.data).toMatchObject({ code: "forbidden", reason: "csrf", httpStatus: 403 });
    expect(await client.keys.list.query()).toEqual([]);

    jar.csrf = csrfToken;
    const { rawKey } = await client.keys.create.mutate({ name: "bot", scopes: ["generate"] });
    expect(rawKey).toMatch(/^cimg_/);

    const session = jar.cookie;
    await client.auth.logout.mutate();
    expect(jar.cookie).toBeUndefined(); // both cookies cleared
    // The same cookie, replayed after logout, no longer opens anything.
    jar.cookie = session;
    const after = await failure(client.auth.me.query());
    expect(after.data).toMatchObject({ code: "unauthorized", httpStatus: 401 });

    const audit = await harness?.services.audit.list({ targetType: "session" });
    expect(audit?.items.map((entry) => entry.action)).toEqual([
      "auth.logout",
      "auth.login",
      "auth.login_failed",
    ]);
  });

  it("marks the cookie Secure behind an https proxy when trustProxy is set", async () => {
    const { url } = await start({ options: { adminPassword: ADMIN_PASSWORD, trustProxy: true } });
    const response = await fetch(`${url}/trpc/auth.login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        "x-forwarded-for": "203.0.113.9",
      },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toContain("Secure");
    const [entry] = (await harness?.services.audit.list({ action: "auth.login" }))?.items ?? [];
    expect(entry?.ip).toBe("203.0.113.9");
  });

  it("throttles logins after 5 wrong passwords with retryAfterMs", async () => {
    const { url } = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const { client } = browser(url);
    for (let i = 0; i < 5; i++) {
      expect((await failure(client.auth.login.mutate({ password: `guess ${i}` }))).data?.code).toBe(
        "unauthorized",
      );
    }
    const throttled = await failure(client.auth.login.mutate({ password: ADMIN_PASSWORD }));
    expect(throttled.data).toMatchObject({ code: "rate_limited", httpStatus: 429 });
    expect(throttled.data?.retryAfterMs).toBeGreaterThan(0);
    const throttledAudit = await harness?.services.audit.list({ action: "auth.login_throttled" });
    expect(throttledAudit?.items).toHaveLength(1);
  });

  it("refuses admin login with a clear message when no password is configured", async () => {
    const { url } = await start();
    const { client } = browser(url);
    const refused = await failure(client.auth.login.mutate({ password: "" }));
    expect(refused.data).toMatchObject({ code: "forbidden", reason: "admin_login_disabled" });
    expect(refused.message).toContain("no admin password is configured");
  });
});

describe("jobs.events subscription", () => {
  it("streams a playground job to succeeded, then resumes after a given lastEventId", async () => {
    const { url } = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const { client, jar } = browser(url);
    jar.csrf = (await client.auth.login.mutate({ password: ADMIN_PASSWORD })).csrfToken;
    const { job } = await client.images.generate.mutate({ prompt: "a red kite" });
    const id = job.id as string;

    const collect = (lastEventId?: string): Promise<Array<{ id: string; type: unknown; seq: unknown }>> =>
      new Promise((resolve, reject) => {
        const seen: Array<{ id: string; type: unknown; seq: unknown }> = [];
        const subscription = client.jobs.events.subscribe(
          lastEventId === undefined ? { id } : { id, lastEventId },
          {
            onData(event) {
              seen.push({ id: event.id, type: event.data.type, seq: event.data.seq });
            },
            onError(error) {
              subscription.unsubscribe();
              reject(error);
            },
            onComplete() {
              resolve(seen);
            },
          },
        );
      });

    const all = await collect();
    expect(all.at(0)).toMatchObject({ id: "1", type: "queued", seq: 1 });
    expect(all.at(-1)?.type).toBe("succeeded");
    expect(all.map((event) => event.id)).toEqual(all.map((_, index) => String(index + 1)));

    const resumed = await collect("2");
    expect(resumed.map((event) => event.seq)).toEqual(all.slice(2).map((event) => event.seq));

    const unknown = await failure(
      new Promise((resolve, reject) => {
        client.jobs.events.subscribe(
          { id: "img_aaaaaaaaaaaaaaaaaaaaaaaaaa" },
          { onError: reject, onComplete: () => resolve(undefined) },
        );
      }),
    );
    expect(unknown.data?.code).toBe("not_found");
  });

  it("refuses a subscription without a session", async () => {
    const { url } = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const { client } = browser(url);
    const refused = await failure(
      new Promise((resolve, reject) => {
        client.jobs.events.subscribe(
          { id: "img_aaaaaaaaaaaaaaaaaaaaaaaaaa" },
          { onError: reject, onComplete: () => resolve(undefined) },
        );
      }),
    );
    expect(refused.data?.code).toBe("unauthorized");
  });
});
