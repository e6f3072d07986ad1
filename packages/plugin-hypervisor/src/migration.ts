/**
 * Pre-copy live migration of a VM (issue 16), started by a scenario action (`actions: [{ at, migrate }]` or
 * `drain`), which the engine delivers as the VM's `migrate` hook with its target host. Signals it uses and why:
 * `memoryUsed` (the guest memory touched: what the first round copies), `services` (its processes' services'
 * `dirtyRate`: what each later round copies again), `transfer` between the two hosts' NICs
 * (so the copy contends with the hosts' other traffic, and each round's length is what the network gave it),
 * `freeze` (the stop-and-copy: the guest's work waits, its requests complete late and none is lost), and
 * `moveNode` (the VM runs on the target from then on; the engine records the migration's figures).
 *
 * Rounds, as QEMU and Xen run them: round 1 copies the touched memory; while a round copies, the guest dirties
 * pages at its dirty rate (the sum of its replicas' services' `dirtyRate`), and the next round copies those (at most the touched memory). Once the dirty set would
 * copy within the downtime target at the bandwidth the last round measured, or after `MAX_ROUNDS`, the VM stops
 * and the dirty set is copied: that copy is the downtime. With bandwidth B, touched memory M and dirty rate D
 * alone on the NICs: round i copies M (D / B)^(i-1) in M D^(i-1) / B^i seconds.
 */
import type { PluginContext, PluginSetup } from "@turtles/engine/plugin";

/**
 * Bytes per second a replica dirties when its service gives no `dirtyRate`: 100 MB/s, the rate issue 16's migration check
 * uses [assumed]: calibration.md has no measurement of guests' dirty rates (Clark et al., NSDI 2005, report working
 * sets from a few MB/s idle to hundreds of MB/s for memory-heavy benchmarks; this is within that range).
 */
export const DEFAULT_DIRTY_RATE = 100e6;

/**
 * Seconds the final stop-and-copy may take when the entry gives no `downtime`: 300 ms, QEMU's default
 * `downtime-limit` (qemu migration parameters) [assumed]: calibration.md has no migration measurement.
 */
export const DEFAULT_DOWNTIME = 0.3;

/**
 * Pre-copy rounds before the VM is stopped whatever its dirty set: 30, Xen's iteration limit of Clark et al.'s
 * design (a guest dirtying faster than the network copies never converges) [assumed]: not in calibration.md.
 */
export const MAX_ROUNDS = 30;

/** The entry field migration reads. */
interface Migrating {
  downtime?: number;
}

/** Adds pre-copy live migration to a VM layer plugin's setup: its `migrate` and `ready` hooks, its state columns. */
export function liveMigration<Entry extends Migrating>(api: PluginSetup<Entry>): void {
  const target = api.extension("migrationTo", "i32", -1);
  const start = api.extension("migrationStart", "f64", 0);
  const rounds = api.extension("migrationRounds", "i32", 0);
  const bytes = api.extension("migrationBytes", "f64", 0);
  const sent = api.extension("migrationRoundBytes", "f64", 0);
  const roundStart = api.extension("migrationRoundStart", "f64", 0);
  // When the VM stopped for the last copy, or -1 while pre-copy rounds run.
  const stopped = api.extension("migrationStopped", "f64", -1);

  const copy = (ctx: PluginContext<Entry>, vm: number, size: number): void => {
    sent.data[vm] = size;
    roundStart.data[vm] = ctx.now;
    ctx.transfer(ctx.hostOf(vm), target.data[vm], size, { then: copied, node: vm });
  };

  const copied = api.event("migration.copied", (ctx, vm) => {
    const elapsed = ctx.now - roundStart.data[vm];
    bytes.data[vm] += sent.data[vm];
    if (stopped.data[vm] >= 0) {
      // The last copy is done: the VM runs on the target (unless that host failed meanwhile: then it stays).
      const figures = { start: start.data[vm], rounds: rounds.data[vm], bytes: bytes.data[vm], downtime: ctx.now - stopped.data[vm] };
      ctx.moveNode(vm, target.data[vm], figures);
      settle(ctx, vm);
      return;
    }
    rounds.data[vm]++;
    let rate = 0;
    for (const service of ctx.services(vm)) rate += service.dirtyRate ?? DEFAULT_DIRTY_RATE;
    const dirty = Math.min(ctx.memoryUsed(vm), rate * elapsed);
    // The bandwidth this round had; a round of no bytes (nothing touched) measured none and needs none.
    const bandwidth = elapsed > 0 ? sent.data[vm] / elapsed : Infinity;
    if (dirty <= bandwidth * (ctx.entry(vm).downtime ?? DEFAULT_DOWNTIME) || rounds.data[vm] >= MAX_ROUNDS) {
      stopped.data[vm] = ctx.now;
      ctx.freeze(vm, true);
    }
    copy(ctx, vm, dirty);
  });

  /** The VM is no longer migrating: it runs, and may migrate again. */
  const settle = (ctx: PluginContext<Entry>, vm: number): void => {
    if (stopped.data[vm] >= 0) ctx.freeze(vm, false);
    stopped.data[vm] = -1;
    target.data[vm] = -1;
  };

  api.hook("migrate", (ctx, vm, to) => {
    if (target.data[vm] >= 0) return; // one migration at a time: the later action finds it on its way
    target.data[vm] = to;
    start.data[vm] = ctx.now;
    rounds.data[vm] = 0;
    bytes.data[vm] = 0;
    copy(ctx, vm, ctx.memoryUsed(vm));
  });

  // A VM restarted mid-migration (a crash, a rollout) lost its copy (the engine cancels its completions): it runs
  // again where it is, unpaused.
  api.hook("ready", (ctx, vm) => {
    if (target.data[vm] >= 0) settle(ctx, vm);
  });
}
