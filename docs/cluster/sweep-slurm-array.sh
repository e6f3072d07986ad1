#!/usr/bin/env bash
# A sweep split over a Slurm job array (no Redis): array task i runs shard i of N and writes results/part-i.json;
# a dependent job merges the parts into the rows of the whole sweep, byte for byte those of one unsharded sweep.
#
#   jobid=$(sbatch --parsable sweep-slurm-array.sh)
#   sbatch --dependency=afterok:$jobid --wrap 'turtles merge results/part-*.json --out results/sweep.csv'
#
# A task that failed or was pre-empted continues its part with --resume when it is resubmitted
# (sbatch --array=<i> sweep-slurm-array.sh).
#SBATCH --job-name=turtles-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=results/shard-%a.log
set -euo pipefail
N=8   # keep equal to the size of --array above
mkdir -p results
turtles sweep scenarios/web-tier.yaml \
  --param services.frontend.replicas=12,24,48,96 \
  --param hostTypes.r6i.cores=16,32 \
  --replications 5 \
  --workers "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "${SLURM_ARRAY_TASK_ID}/${N}" \
  --out "results/part-${SLURM_ARRAY_TASK_ID}.json" --resume
