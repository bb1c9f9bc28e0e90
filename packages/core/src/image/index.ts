export * from "./base64.js";
export * from "./base64-stream-decoder.js";
export * from "./concat-bytes.js";
export * from "./decode-png.js";
export * from "./encode-png.js";
export * from "./json-with-base64.js";
export * from "./sniff.js";
export * from "./verify-image.js";
