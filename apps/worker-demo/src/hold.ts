/**
 * The page's own pause and cancel between its calls to the worker. The worker pauses and cancels only a run in
 * progress (between its chunks); a comparison makes a call per replication, and a Pause or Cancel that comes between
 * two of them would reach no run: it is kept here and honoured before the next call.
 */
export class Hold {
  private stopped = false;
  private held: { until: Promise<void>; release: () => void } | undefined;

  /** Before a call to the worker: waits while paused, then throws "run cancelled" if the work was cancelled. */
  async between(): Promise<void> {
    await this.held?.until;
    if (this.stopped) throw new Error("run cancelled");
  }

  /** Holds the next call until `resume` or `cancel`. */
  pause(): void {
    if (this.held) return;
    let release = (): void => {};
    const until = new Promise<void>((resolve) => (release = resolve));
    this.held = { until, release };
  }

  /** Lets the next call go. */
  resume(): void {
    this.held?.release();
    this.held = undefined;
  }

  /** Stops the work at its next call (a held one too). */
  cancel(): void {
    this.stopped = true;
    this.resume();
  }

  /** A new run: not paused, not cancelled. */
  reset(): void {
    this.stopped = false;
    this.resume();
  }
}
