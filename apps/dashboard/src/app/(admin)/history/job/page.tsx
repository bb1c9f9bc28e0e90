"use client";

import { Suspense } from "react";
import { JobDetailFromQuery } from "@/components/job-detail-from-query";

export default function JobPage() {
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <JobDetailFromQuery />
    </Suspense>
  );
}
