import { describe, expect, it } from "vitest";
import { testHost } from "../testing/index.js";
import { MAX_REQUESTS_IN_FLIGHT } from "../workload/requests.js";
import { loadScenario } from "./load.js";
import { ScenarioError } from "./problems.js";

/** Closed-loop clients of a web service that calls an API that calls a database: three requests in flight per client. */
const chain = (clients: number): string => `duration: 1m
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 1 }]
tenants:
  - name: t
    services:
      - { name: web, replicas: 1, load: { closed: { clients: ${clients} } }, request: [{ call: api }] }
      - { name: api, replicas: 1, request: [{ cpu: 1ms }, { call: db }] }
      - { name: db, replicas: 1, request: [{ cpu: 1ms }] }
`;

describe("limits checked at load", () => {
  it("refuses closed-loop clients that could hold more requests in flight than a replication can, counting their calls", () => {
    const most = Math.floor(MAX_REQUESTS_IN_FLIGHT / 3);
    expect(() => loadScenario(chain(most), { plugins: [testHost] })).not.toThrow();
    try {
      loadScenario(chain(most + 1), { file: "s.yaml", plugins: [testHost] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioError);
      expect((err as ScenarioError).message).toMatch(/^s\.yaml:5:3: tenants: closed-loop clients could hold 2097153 requests in flight at once .* more than the 2097152/);
    }
  });
});
