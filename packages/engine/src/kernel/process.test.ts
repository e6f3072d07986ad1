import { describe, expect, it } from "vitest";
import { Processes, timeout } from "./process.js";
import { Simulation } from "./simulation.js";

describe("generator processes", () => {
  it("interleave timeouts in simulated time", () => {
    const sim = new Simulation();
    const procs = new Processes(sim);
    const log: string[] = [];
    procs.spawn(
      (function* () {
        for (let i = 0; i < 3; i++) {
          yield timeout(2);
          log.push(`slow@${sim.now}`);
        }
      })(),
    );
    procs.spawn(
      (function* () {
        for (let i = 0; i < 3; i++) {
          yield timeout(1.5);
          log.push(`fast@${sim.now}`);
        }
      })(),
    );
    sim.run();
    expect(log).toEqual(["fast@1.5", "slow@2", "fast@3", "slow@4", "fast@4.5", "slow@6"]);
  });

  it("wait on signals and share a FIFO resource", () => {
    const sim = new Simulation();
    const procs = new Processes(sim);
    const server = procs.resource(1);
    const done = procs.signal();
    const log: string[] = [];
    const customer = function* (name: string, service: number) {
      yield server.request();
      log.push(`${name} starts @${sim.now}`);
      yield timeout(service);
      server.release();
      if (name === "c") done.fire();
    };
    procs.spawn(customer("a", 3));
    procs.spawn(customer("b", 1));
    procs.spawn(customer("c", 2));
    procs.spawn(
      (function* () {
        yield done;
        log.push(`all served @${sim.now}`);
      })(),
    );
    sim.run();
    expect(log).toEqual(["a starts @0", "b starts @3", "c starts @4", "all served @6"]);
    expect(server.inUse).toBe(0);
  });

  it("refuses to yield anything but a timeout or a signal", () => {
    const sim = new Simulation();
    const procs = new Processes(sim);
    procs.spawn(
      (function* () {
        yield 5 as never;
      })(),
    );
    expect(() => sim.run()).toThrow(/yield timeout/);
  });
});
