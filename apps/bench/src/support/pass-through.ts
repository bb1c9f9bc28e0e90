/**
 * The floor of `bench:gateway`: the least a gateway can do, in its own Bun process so its CPU and memory
 * are measured like the server's. It answers `POST /v1/images/generations` by sending the caller's body on
 * to the fake upstream's native image route with an upstream login, and streams the reply back untouched
 * (no key check, no queue, no storage, no decoding).
 *
 *   bun apps/bench/src/support/pass-through.ts <upstream base URL> <access token>   (prints the port)
 */
const [upstream, token] = process.argv.slice(2);
if (!upstream || !token) throw new Error("usage: pass-through.ts <upstream base URL> <access token>");

interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number };
}
const { Bun } = globalThis as unknown as { Bun: BunServe };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    const reply = await fetch(`${upstream}/images/generations`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        originator: "codex_cli_rs",
        "content-type": "application/json",
      },
      body: request.body,
    });
    return new Response(reply.body, {
      status: reply.status,
      headers: { "content-type": reply.headers.get("content-type") ?? "application/json" },
    });
  },
});
process.stdout.write(`${server.port}\n`);
