/**
 * A throwaway redis-server for tests: on a free port of 127.0.0.1, in its own folder (with AOF on, so a restart
 * keeps the queue), never the system service. `redisMissing` is set when redis-server is not installed: the tests
 * that need it skip and say so. Plain JavaScript: the backend benchmark (bench/backend.mjs) uses it too.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** True when there is no redis-server on PATH. */
export const redisMissing = spawnSync("redis-server", ["--version"]).error !== undefined;
if (redisMissing) console.log("skipped: redis-server not installed");

/** A free TCP port on 127.0.0.1 (the OS picks it). */
/** @returns {Promise<number>} */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once the server answers PING (a redis-server takes some milliseconds to listen). */
/** @param {number} port */
async function answering(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => socket.write("PING\r\n"));
      socket.once("data", (d) => {
        socket.destroy();
        resolve(/PONG|NOAUTH/.test(d.toString()));
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer`);
}

/**
 * Starts a redis-server for one test file (or benchmark); `password` makes it require one. `restart` stops it
 * (SIGTERM: it writes its AOF) and starts it again on the same port and folder.
 * @param {string} [password]
 * @returns {Promise<{ url: string, port: number, readonly pid: number | undefined, restart(): Promise<void>, stop(): Promise<void> }>}
 */
export async function startRedis(password) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "turtles-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", ...(password ? ["--requirepass", password] : [])];
  /** @type {import("node:child_process").ChildProcess} */
  let child;
  const start = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    await answering(port);
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  await start();
  // `pid` is the running server's (the benchmark reads its CPU time).
  return { url: `redis://127.0.0.1:${port}`, port, get pid() { return child.pid; }, restart: async () => (await stop(), await start()), stop };
}
