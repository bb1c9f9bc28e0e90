"use client";

import { useState } from "react";
import { JobLiveView } from "@/components/job-live-view";
import { PageHeading } from "@/components/page-heading";
import { PlaygroundForm } from "@/components/playground-form";
import type { JobState } from "@/lib/api-types";

export default function PlaygroundPage() {
  const [job, setJob] = useState<{ id: string; state: JobState } | null>(null);
  return (
    <div className="space-y-4">
      <PageHeading title="Playground" />
      <PlaygroundForm onStarted={(result) => setJob({ id: result.job.id, state: result.job.status })} />
      {/* Keyed by id: a new job starts a fresh event stream and view. */}
      {job ? <JobLiveView key={job.id} job={job} /> : null}
    </div>
  );
}
