import { Args, Flags } from "@oclif/core";
import { formatBytes, LIMITS, mergeShards, toCsv } from "@turtles/engine";
import { ScenarioCommand } from "../lib/base.js";
import { InputFileError, readInputFile } from "../lib/files.js";

export default class Merge extends ScenarioCommand {
  static override summary = "Join the part files of a sharded sweep into its rows, byte-identical to one unsharded sweep.";

  static override description =
    "Reads the --out part files that `turtles sweep ... --shard i/N` wrote (on any machines: a Kubernetes Indexed Job, a Slurm array), " +
    "checks that they are every shard of one sweep, each complete and given once, and writes the rows in point order to --out " +
    "(.csv or .json), as the unsharded sweep would have. A point that failed keeps its row with the error, and the exit code is then 1.";

  static override examples = [
    "<%= config.bin %> merge part-1.json part-2.json part-3.json part-4.json --out sweep.csv",
    "<%= config.bin %> merge parts/*.json --out sweep.json",
  ];

  static override strict = false; // any number of part files

  static override args = { parts: Args.string({ description: "the part files of every shard (any order)", required: true }) };

  static override flags = {
    out: Flags.string({ description: "write the rows to this .csv or .json file (default: CSV on stdout)" }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Merge);
    const files = argv as string[];
    this.writableFile("out", flags.out, ...files);
    const parts = files.map((file) => {
      try {
        const bytes = readInputFile(file, LIMITS.scenarioBytes * 64);
        if (bytes.length > LIMITS.scenarioBytes * 64) this.fail(`merge: ${file} is larger than ${formatBytes(LIMITS.scenarioBytes * 64)}; give the part files of turtles sweep --shard`);
        return { file, text: bytes.toString("utf8") };
      } catch (err) {
        if (!(err instanceof InputFileError)) throw err;
        return this.fail(`merge: cannot read ${file}: ${err.message}`);
      }
    });
    let rows: Record<string, unknown>[] = [];
    try {
      rows = mergeShards(parts);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.fail(err.message);
    }
    // The bytes a whole sweep writes (commands/sweep.ts: body).
    const body = flags.out?.endsWith(".json") ? `${JSON.stringify(rows, null, 2)}\n` : toCsv(rows as Record<string, string | number | null>[]);
    if (!flags.out) this.print(body);
    else if (!this.writeResults(flags.out, body, "the rows")) this.print(body);
    const failed = rows.filter((r) => !(r.error === undefined || r.error === null || r.error === "")).length;
    if (failed > 0) {
      process.stderr.write(`${failed} of ${rows.length} points failed (their rows carry the error)\n`);
      process.exitCode = 1;
    }
  }
}
