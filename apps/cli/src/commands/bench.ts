import { Command, Flags } from "@oclif/core";
import { formatBenchmarkReport, runBenchmarkSuite, type SuiteReport } from "@turtles/engine/bench";

export default class Bench extends Command {
  static override summary = "Benchmark the simulation kernel against a bare heap, C++ and SimPy.";

  static override description =
    "Benchmark the simulation kernel: PHOLD and PHOLD-R at 1e3, 1e5 and 1e6 pending events against a bare " +
    "typed-array heap, C++ std::priority_queue (if g++ is installed) and SimPy (if python3-simpy3 is installed), " +
    "and M/M/c against Erlang C.";

  static override examples = ["<%= config.bin %> bench --quick", "<%= config.bin %> bench --json > bench.json"];

  static override flags = {
    quick: Flags.boolean({ description: "fewer events and one repetition (about 10 s instead of about a minute)" }),
    seed: Flags.integer({ description: "seed of the benchmark models", default: 1, min: 0, max: Number.MAX_SAFE_INTEGER }),
  };

  static override enableJsonFlag = true;

  async run(): Promise<SuiteReport> {
    const { flags } = await this.parse(Bench);
    const report = runBenchmarkSuite({
      quick: flags.quick,
      seed: flags.seed,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    this.log(formatBenchmarkReport(report));
    return report;
  }
}
