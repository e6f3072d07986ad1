"""PHOLD on SimPy, the Python peer of the kernel benchmark.

Same model as phold-model.ts: every event schedules one new event at
now + 0.1 + exp(mean 0.9) for a uniformly random LP. Events are SimPy Timeouts
with a callback (SimPy's own kernel path, no process overhead). Prints one JSON
line. Needs Debian's python3-simpy3 (apt-get install python3-simpy3).
"""
import argparse
import json
import random
import time

import simpy

p = argparse.ArgumentParser()
p.add_argument("--lps", type=int, default=1000)
p.add_argument("--per", type=int, default=1)
p.add_argument("--events", type=int, default=100000)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()

env = simpy.Environment()
rng = random.Random(a.seed)


def hop(event):
    nxt = env.timeout(0.1 + rng.expovariate(1 / 0.9), rng.randrange(a.lps))
    nxt.callbacks.append(hop)


for lp in range(a.lps):
    for _ in range(a.per):
        env.timeout(0.1 + rng.expovariate(1 / 0.9), lp).callbacks.append(hop)

t0 = time.perf_counter()
for _ in range(a.events):
    env.step()
seconds = time.perf_counter() - t0
print(json.dumps({"model": "simpy " + simpy.__version__, "pending": a.lps * a.per, "events": a.events,
                  "seconds": seconds, "eventsPerSecond": a.events / seconds,
                  "nsPerEvent": seconds * 1e9 / a.events, "simTime": env.now}))
