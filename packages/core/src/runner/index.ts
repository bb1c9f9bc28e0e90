export * from "./create-runner.js";
export * from "./enqueue-image-job.js";
export * from "./load-stored-request.js";
export * from "./recent-outputs.js";
export * from "./staged-references.js";
