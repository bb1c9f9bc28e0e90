import { fromDataUrlOrBase64, fromDataUrlOrBase64Bytes } from "@codex-img/core";
import { describe, expect, it } from "vitest";

const outcome = (decode: () => Uint8Array): string => {
  try {
    return Buffer.from(decode()).toString("hex");
  } catch (error) {
    return (error as Error).name;
  }
};

describe("fromDataUrlOrBase64Bytes", () => {
  it("accepts and refuses exactly what the string form does, decoding to the same bytes", () => {
    const values = [
      "QUJD",
      "QUI",
      "QQ",
      "QQ==",
      "QQ=",
      "Q",
      "QUJD=",
      "QU=JD",
      "QU*JD",
      "QU*JDQ",
      "Q-_D",
      "QQ===",
      "QU JD",
      "",
      "data:",
      "data:,",
      "data:image/png;base64,QUJD",
      "data:x,QQ==",
      "data:image/png;base64,QU*D",
      "ЖЖ",
      "QUJDQ",
      "QUJD\u00e9",
      "a".repeat(4097),
      "QUJD".repeat(300_000),
      `${"QUJD".repeat(300_000)}*QUJD`,
      `${"QUJD".repeat(262_144)}QQ==`,
    ];
    for (const value of values) {
      const bytes = new TextEncoder().encode(value);
      expect([value, outcome(() => fromDataUrlOrBase64Bytes(bytes))]).toEqual([
        value,
        outcome(() => fromDataUrlOrBase64(value)),
      ]);
    }
  });
});
