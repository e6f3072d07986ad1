import { defineConfig } from "vitest/config";

export default defineConfig({
  // CLI runs and simulations take seconds; on a loaded 2-core machine several times that (no timing is asserted): a
  // compare of three CLI runs that takes 5 s alone took 51-60 s in CI beside the engine's suite, so the guard is 3 min.
  // Two files at a time: most of a CLI test is a child process starting up or waiting for a signal, so two overlap well
  // on 2 cores (the suite took about 7 minutes one file at a time).
  test: { testTimeout: 180_000, include: ["src/**/*.test.ts", "test/**/*.test.ts"], maxWorkers: 2 },
});
