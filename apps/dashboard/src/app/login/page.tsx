import { LoginForm } from "@/components/login-form";

export default function LoginPage() {
  return (
    <main className="mx-auto w-full max-w-sm flex-1 px-4 py-16">
      <h1 className="mb-6 text-center text-2xl font-semibold">codex-img admin</h1>
      <LoginForm />
    </main>
  );
}
