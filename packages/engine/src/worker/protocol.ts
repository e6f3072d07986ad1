/**
 * The worker protocol: types only. Control goes through comlink; results come
 * back as one msgpack pack per job (never a message per event).
 */

/** Replications of one scenario for one worker to run. */
export interface ReplicationJob {
  /** The normalised scenario (overrides applied) as JSON: it loads back to the same scenario. */
  scenario: string;
  /** Module URLs (file: or package specifiers) whose exported plugins provide the layers. */
  pluginModules: string[];
  /** Replication indices to run, in order. */
  replications: number[];
  file?: string;
}

/** What a worker exposes. */
export interface EngineApi {
  /** Runs the job's replications; resolves to the msgpack of its `ReplicationResult[]`. */
  runReplications(job: ReplicationJob): Promise<Uint8Array>;
}
