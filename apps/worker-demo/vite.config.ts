import { defineConfig } from "vitest/config";

export default defineConfig({
  // The engine runs in a module worker (comlink); its bundle is ES.
  worker: { format: "es" },
  build: { target: "es2022" },
  test: { include: ["src/**/*.test.ts", "node/**/*.test.ts"] },
});
