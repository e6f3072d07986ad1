/**
 * A sweep or run replication as a BullMQ job: what the submitter puts in Redis and `turtles worker` runs. Types and
 * the names both sides agree on, nothing else (the processor thread imports it without BullMQ).
 */
import type { LoadRequest } from "@turtles/engine/worker";

/** The data of one job: one replication of one point's scenario. */
export interface ReplicationJob {
  /** ENGINE_VERSION of the submitter: another engine may not give the same bytes, so a worker of another refuses it. */
  engine: string;
  load: LoadRequest;
  replication: number;
}

/** What a finished job returns (kept in Redis until its sweep wrote it): the msgpack pack of `ReplicationResult[]`, base64. */
export type ReplicationReturn = string;

/** Plugins built into the CLI travel as package names: each worker resolves them from its own install. */
export const BUILTIN_PLUGIN_PACKAGES = ["@turtles/plugin-baremetal", "@turtles/plugin-hypervisor", "@turtles/plugin-container"] as const;

/** The message prefix by which a worker refuses a job of another engine version (the submitter counts on it). */
export const ENGINE_MISMATCH = "engine version mismatch";
