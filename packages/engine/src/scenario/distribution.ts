/** From a scenario's distribution spec to a kernel distribution to sample from. */
import { constant, empirical, exponential, lognormal, uniform, type Distribution } from "../random/distributions.js";
import type { DistributionSpec } from "./fields.js";

export function toDistribution(spec: DistributionSpec): Distribution {
  if (typeof spec === "number") return constant(spec);
  if ("exp" in spec) return exponential(spec.exp);
  if ("lognormal" in spec) return lognormal(spec.lognormal.mean, spec.lognormal.cv);
  if ("uniform" in spec) return uniform(spec.uniform[0], spec.uniform[1]);
  return empirical(spec.empirical);
}
