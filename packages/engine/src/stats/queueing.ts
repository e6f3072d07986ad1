/** Closed forms of classic queues, the yardsticks the kernel is validated against. */

/**
 * Erlang's C formula: the probability that an arrival waits in an M/M/c queue
 * with `servers` servers and offered load `a` = lambda / mu (< servers).
 */
export function erlangC(servers: number, a: number): number {
  if (!(Number.isInteger(servers) && servers >= 1)) throw new RangeError(`servers must be an integer >= 1, got ${servers}`);
  if (!(a > 0 && a < servers)) throw new RangeError(`offered load must be in (0, ${servers}), got ${a}`);
  // Erlang B by its stable recurrence, then C from B.
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (a * b) / (k + a * b);
  const rho = a / servers;
  return b / (1 - rho + rho * b);
}

/** Mean time in queue (before service) of an M/M/c queue with arrival rate `lambda` and service rate `mu`. */
export function mmcMeanWait(lambda: number, mu: number, servers: number): number {
  return erlangC(servers, lambda / mu) / (servers * mu - lambda);
}
