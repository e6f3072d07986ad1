import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { container } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";
// @ts-expect-error: a plain JavaScript example, without types
import { runInWorker } from "./embed.mjs";

const plugins = [baremetal, hypervisor, container];
const file = join(import.meta.dirname, "..", "..", "..", "examples", "web-tier.yaml");

describe("the Node embedding example", () => {
  it("runs the bundled web tier in a worker thread, with progress, to the bytes of a run in this thread", { timeout: 120_000 }, async () => {
    const text = readFileSync(file, "utf8");
    const progress: { simTime: number }[] = [];
    const inWorker = await runInWorker(text, { file, duration: 20, replications: 2, onProgress: (p: { simTime: number }) => progress.push(p) });
    const here = await runScenario(loadScenario(text, { file, plugins }), plugins, { duration: 20, replications: 2, file });
    expect(JSON.stringify(inWorker)).toBe(JSON.stringify(here));
    expect(progress.length).toBeGreaterThan(1);
  });
});
