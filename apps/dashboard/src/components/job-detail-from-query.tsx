"use client";

import { useSearchParams } from "next/navigation";
import { JobDetailView } from "./job-detail-view";

/** A static export has no dynamic segments: the job id rides in `?id=`. */
export function JobDetailFromQuery() {
  const id = useSearchParams().get("id");
  if (!id) return <p role="alert">No job id in the address (expected ?id=img_…).</p>;
  // Keyed so "Run again" (same page, new id) starts from a clean view.
  return <JobDetailView key={id} id={id} />;
}
