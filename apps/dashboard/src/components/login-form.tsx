"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { rememberCsrfToken } from "@/lib/csrf-token";
import { queryKeys } from "@/lib/query-keys";
import { takeReturnPath } from "@/lib/return-path";
import { trpc } from "@/lib/trpc-client";
import { ErrorBanner } from "./error-banner";
import { InputField } from "./input-field";
import { panelClass, primaryButtonClass } from "./ui-classes";

export function LoginForm() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: (input: { password: string }) => trpc().auth.login.mutate(input),
    onSuccess: async (result) => {
      rememberCsrfToken(result.csrfToken);
      await queryClient.resetQueries({ queryKey: queryKeys.me });
      router.replace(takeReturnPath());
    },
  });

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    login.mutate({ password });
  }

  return (
    <form onSubmit={submit} className={`${panelClass} space-y-4`}>
      <InputField
        id="admin-password"
        label="Admin password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <ErrorBanner error={login.error} />
      <button type="submit" className={`${primaryButtonClass} w-full`} disabled={login.isPending}>
        {login.isPending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
