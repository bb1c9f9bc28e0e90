import { BASE64_CHUNK_BYTES, base64SourceOf, jsonWithBase64 } from "@codex-img/core";
import { describe, expect, it } from "vitest";

async function readAll(
  body: ReadableStream<Uint8Array | string>,
): Promise<{ text: string; kinds: Set<string> }> {
  const decoder = new TextDecoder();
  const kinds = new Set<string>();
  let text = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array | string>) {
    kinds.add(typeof chunk);
    text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  }
  return { text: text + decoder.decode(), kinds };
}

describe("jsonWithBase64", () => {
  const images = [
    new Uint8Array(2 * BASE64_CHUNK_BYTES + 5).map((_, i) => (i * 31 + 7) % 256),
    new Uint8Array(10).map((_, i) => i),
  ];
  const build = (base64Of: (index: number) => string) => ({
    prompt: 'a "quoted" fox \u2603',
    data: images.map((_, index) => ({
      b64_json: base64Of(index),
      url: `data:image/png;base64,${base64Of(index)}`,
    })),
  });
  const open = async (index: number) => base64SourceOf(images[index] as Uint8Array);

  it("streams the same JSON as bytes or as text chunks, of the length it announced", async () => {
    const bytes = await jsonWithBase64(build, open);
    const text = await jsonWithBase64(build, open, { chunks: "text" });
    const asBytes = await readAll(bytes.body);
    const asText = await readAll(text.body);
    expect(asBytes.kinds).toEqual(new Set(["object"]));
    // Text mode hands the base64 on as strings; the JSON around it stays bytes.
    expect(asText.kinds).toEqual(new Set(["object", "string"]));
    expect(asText.text).toBe(asBytes.text);
    expect(new TextEncoder().encode(asText.text).length).toBe(text.length);
    expect(text.length).toBe(bytes.length);
    const parsed = JSON.parse(asText.text) as ReturnType<typeof build>;
    expect(parsed.prompt).toBe('a "quoted" fox \u2603');
    parsed.data.forEach((item, index) => {
      expect(Buffer.from(item.b64_json, "base64").equals(Buffer.from(images[index] as Uint8Array))).toBe(
        true,
      );
      expect(item.url).toBe(`data:image/png;base64,${item.b64_json}`);
    });
  });
});
