import { defineConfig } from "vitest/config";

export default defineConfig({
  // Simulations take seconds; on a loaded 2-core machine several times that (no timing is asserted).
  test: { testTimeout: 60_000 },
});
