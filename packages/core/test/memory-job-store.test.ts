import { createMemoryJobStore } from "@codex-img/core";
import { describeJobStoreConformance } from "@codex-img/core/conformance";

describeJobStoreConformance("memory", async () => ({ store: createMemoryJobStore() }));
