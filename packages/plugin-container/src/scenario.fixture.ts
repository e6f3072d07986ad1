// Test support, not shipped (tsconfig excludes *.fixture.ts): a one-tenant scenario on one host type, as the
// container plugin's tests write it.
import { loadScenario, type LoadOptions, type Scenario } from "@turtles/engine";

/** Options of `hostScenario`: the stacks and services as a scenario writes them, and its head. */
export interface HostScenario {
  stacks: string;
  /** Service lines, indented for `services:`. */
  services: string;
  hostType?: string;
  hosts?: number;
  duration?: string;
  warmup?: string;
}

/** A validated scenario of tenant `t` on `hosts` hosts of one type (default one host of 1 core, 16 GiB). */
export function hostScenario(o: HostScenario, plugins: LoadOptions["plugins"]): Scenario {
  return loadScenario(
    `duration: ${o.duration ?? "20s"}
${o.warmup === undefined ? "" : `warmup: ${o.warmup}\n`}hostTypes: { h: ${o.hostType ?? "{ cores: 1, memory: 16GiB }"} }
hosts: [{ type: h, count: ${o.hosts ?? 1} }]
stacks: ${o.stacks}
tenants:
  - name: t
    services:
${o.services}
`,
    { plugins },
  );
}
