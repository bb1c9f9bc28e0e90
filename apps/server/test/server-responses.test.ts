import { sniffImage } from "@codex-img/core";
import { type FakeCodexBackend, testPng } from "@codex-img/core/testing";
import { type ServerWithLogin, startServerWithLogin } from "@codex-img/server/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The official `openai` SDK's Responses API with the image tool, by `baseURL` alone, through a real
 * server process and its Codex login against the fake backend.
 */
describe("the Responses API with the image tool, through the server", () => {
  let started: ServerWithLogin | undefined;
  let upstream: FakeCodexBackend;
  let client: OpenAI;

  beforeAll(async () => {
    started = await startServerWithLogin({ prefix: "codex-img-responses-" });
    upstream = started.upstream;
    const { server } = started;
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.firstKey, maxRetries: 0 });
  }, 40_000);

  afterAll(async () => {
    await started?.close();
  });

  const imagesOf = (response: { output: Array<{ type: string }> }): Uint8Array[] =>
    response.output
      .filter(
        (item): item is { type: "image_generation_call"; result: string } =>
          item.type === "image_generation_call",
      )
      .map((item) => new Uint8Array(Buffer.from(item.result, "base64")));

  it("creates an image, then edits it in a second turn with previous_response_id", async () => {
    const first = await client.responses.create({
      model: "gpt-5.5",
      input: "A red fox in the snow",
      tools: [{ type: "image_generation", size: "1024x1536", quality: "high" }],
    });
    expect(first.id).toMatch(/^resp_/);
    expect(first.status).toBe("completed");
    const [image] = imagesOf(first);
    expect(sniffImage(image ?? new Uint8Array())).toEqual({ format: "png", width: 1024, height: 1536 });
    const sent = upstream.requests.filter((r) => r.url.endsWith("/images/generations")).at(-1);
    expect(sent?.json).toMatchObject({ prompt: "A red fox in the snow", size: "1024x1536", quality: "high" });

    const second = await client.responses.create({
      model: "gpt-5.5",
      previous_response_id: first.id,
      input: "Now make it night",
      tools: [{ type: "image_generation" }],
    });
    expect(second.status).toBe("completed");
    expect(second.previous_response_id).toBe(first.id);
    expect(imagesOf(second)).toHaveLength(1);
    // The first image went upstream as the reference of the edit.
    const edit = upstream.requests.filter((r) => r.url.endsWith("/images/edits")).at(-1);
    const references = (edit?.json as { images?: Array<{ image_url: string }> } | undefined)?.images ?? [];
    expect(references).toHaveLength(1);
    expect(references[0]?.image_url).toBe(
      `data:image/png;base64,${Buffer.from(image ?? []).toString("base64")}`,
    );

    const stored = await client.responses.retrieve(second.id);
    expect(stored).toMatchObject({ id: second.id, status: "completed" });
    expect(imagesOf(stored)).toHaveLength(1);
    const deleted = await client.responses.delete(first.id);
    expect(deleted).toMatchObject({ id: first.id, object: "response.deleted", deleted: true });
    const gone = await client.responses.retrieve(first.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("streams the image tool's events, ending with the image in output_item.done and response.completed", async () => {
    const reference = Buffer.from(await testPng(32, 32)).toString("base64");
    const stream = await client.responses.create({
      model: "gpt-5.5",
      stream: true,
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Put this in a frame" },
            { type: "input_image", image_url: `data:image/png;base64,${reference}`, detail: "auto" },
          ],
        },
      ],
      // Its own size: the fake draws the same bytes for the same size, which the runner would take for
      // an earlier job's image returned again.
      tools: [{ type: "image_generation", output_format: "png", size: "1536x1024" }],
    });
    const types: string[] = [];
    let done: Uint8Array | undefined;
    let completed: { status?: string; output: Array<{ type: string }> } | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_item.done" && event.item.type === "image_generation_call") {
        done = new Uint8Array(Buffer.from(event.item.result ?? "", "base64"));
      }
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.image_generation_call.in_progress",
    ]);
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.image_generation_call.completed");
    expect(sniffImage(done ?? new Uint8Array())?.format).toBe("png");
    expect(completed?.status).toBe("completed");
    expect(completed && imagesOf(completed)).toHaveLength(1);
  });

  it("refuses a request without the image tool with 400 unsupported_tool", async () => {
    const error = await client.responses.create({ model: "gpt-5.5", input: "Hello" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported_tool");
  });
});
