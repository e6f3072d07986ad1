// PHOLD on C++ std::priority_queue, the native peer of the kernel benchmark.
// Same model as phold-model.ts: (time, seq) ordering, an int payload, delays
// 0.1 + exp(mean 0.9), a uniformly random target LP. Prints one JSON line.
// Built by the bench suite with `g++ -O2` when g++ is on the machine.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <vector>

struct Event {
  double time;
  uint64_t seq;
  int32_t payload;
};
struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.time > b.time || (a.time == b.time && a.seq > b.seq);
  }
};

// xoshiro128**, as in the engine.
static uint32_t s[4];
static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static inline uint32_t next_u32() {
  const uint32_t result = rotl(s[1] * 5, 7) * 9;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
  return result;
}
static inline double uniform() {
  return ((next_u32() >> 5) * 67108864.0 + (next_u32() >> 6)) / 9007199254740992.0;
}
static inline double delay() { return 0.1 - 0.9 * std::log(1 - uniform()); }
static inline int32_t below(uint32_t n) { return (int32_t)(((uint64_t)next_u32() * n) >> 32); }

int main(int argc, char** argv) {
  long lps = 1000, per = 1, events = 1000000, seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    long v = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--lps")) lps = v;
    else if (!std::strcmp(argv[i], "--per")) per = v;
    else if (!std::strcmp(argv[i], "--events")) events = v;
    else if (!std::strcmp(argv[i], "--seed")) seed = v;
  }
  uint64_t z = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < 4; i++) { z ^= z >> 31; z *= 0xBF58476D1CE4E5B9ull; s[i] = (uint32_t)(z >> 32) | 1; }
  std::vector<Event> storage;
  storage.reserve(lps * per);
  std::priority_queue<Event, std::vector<Event>, Later> q(Later(), std::move(storage));
  uint64_t seq = 0;
  for (long lp = 0; lp < lps; lp++)
    for (long m = 0; m < per; m++) q.push({delay(), seq++, (int32_t)lp});
  auto t0 = std::chrono::steady_clock::now();
  double now = 0;
  long n = 0;
  while (n < events && !q.empty()) {
    Event e = q.top();
    q.pop();
    now = e.time;
    n++;
    q.push({now + delay(), seq++, below((uint32_t)lps)});
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"model\":\"c++ std::priority_queue\",\"pending\":%ld,\"events\":%ld,\"seconds\":%.9f,\"eventsPerSecond\":%.1f,\"nsPerEvent\":%.3f,\"simTime\":%.6f}\n",
              lps * per, n, seconds, n / seconds, seconds * 1e9 / n, now);
  return 0;
}
