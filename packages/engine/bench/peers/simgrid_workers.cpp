// The SimGrid peer of the workload benchmark (SimGrid 3.32, s4u): `hosts` hosts of `cores` cores at
// 1 Gflop/s, `workers` actors spread evenly over them, each looping execute(exp(mean 1e8 flops)),
// i.e. 100 ms of one core, the same model as `cpu: { exp: 100ms }` with closed-loop clients and no
// think time. Runs `horizon` simulated seconds and prints one JSON line: completed tasks, wall seconds,
// peak RSS. Built by the bench when Debian's libsimgrid-dev is installed.
// With `vms vcpus think` after them (bench/src/vms.ts), SimGrid's VM model: each host runs `vms` virtual machines of
// `vcpus` cores, `workers` is per VM, and each worker sleeps exp(mean `think` s) before each task when think > 0.
#include <simgrid/s4u.hpp>
#include <simgrid/s4u/VirtualMachine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <sys/resource.h>

namespace sg4 = simgrid::s4u;

static long completed = 0;
static double horizon = 0;
static double think = 0;

static void worker(int id)
{
  std::mt19937_64 rng(1000003ULL * id + 1);
  std::exponential_distribution<double> flops(1.0 / 1e8);
  std::exponential_distribution<double> pause(think > 0 ? 1.0 / think : 1.0);
  for (;;) {
    if (think > 0)
      sg4::this_actor::sleep_for(pause(rng));
    sg4::this_actor::execute(flops(rng));
    if (sg4::Engine::get_clock() > horizon)
      return;
    completed++;
  }
}

int main(int argc, char** argv)
{
  sg4::Engine engine(&argc, argv);
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s hosts cores workers horizon [vms-per-host vcpus think]\n", argv[0]);
    return 2;
  }
  const int hosts   = std::atoi(argv[1]);
  const int cores   = std::atoi(argv[2]);
  const int workers = std::atoi(argv[3]);
  horizon           = std::atof(argv[4]);
  const int vms     = argc >= 8 ? std::atoi(argv[5]) : 0;
  const int vcpus   = argc >= 8 ? std::atoi(argv[6]) : 0;
  think             = argc >= 8 ? std::atof(argv[7]) : 0;
  auto* zone = sg4::create_full_zone("zone");
  std::vector<sg4::Host*> all;
  for (int h = 0; h < hosts; h++)
    all.push_back(zone->create_host("h" + std::to_string(h), 1e9)->set_core_count(cores));
  zone->seal();
  if (vms == 0) {
    for (int w = 0; w < workers; w++)
      sg4::Actor::create("w" + std::to_string(w), all[w % hosts], worker, w);
  } else {
    int id = 0;
    for (int h = 0; h < hosts; h++)
      for (int v = 0; v < vms; v++) {
        auto* vm = all[h]->create_vm("vm" + std::to_string(h) + "-" + std::to_string(v), vcpus);
        vm->start();
        for (int w = 0; w < workers; w++, id++)
          sg4::Actor::create("w" + std::to_string(id), vm, worker, id);
      }
  }
  auto t0 = std::chrono::steady_clock::now();
  engine.run_until(horizon);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\"completed\":%ld,\"seconds\":%.6f,\"maxRssKb\":%ld}\n", completed, seconds, ru.ru_maxrss);
  std::fflush(stdout);
  std::_Exit(0); // actors are still blocked in execute(); skip their teardown
}
