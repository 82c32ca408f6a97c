#!/bin/bash
# A campaign as a Slurm job array: each array task runs its slice (taken
# from SLURM_ARRAY_TASK_ID), then `touchdown merge` joins the slices.
#
#   sbatch --wait slurm-campaign.sh campaign.yaml
#   touchdown merge results/shard-*.jsonl --results results/all.jsonl --junit results/all.xml
#
# Tested: SlurmTests runs this script on a one-node cluster.
#SBATCH --job-name=touchdown-campaign
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --output=campaign-%A_%a.log
set -euo pipefail
campaign="${1:?usage: sbatch slurm-campaign.sh CAMPAIGN.yaml}"
mkdir -p results
exec touchdown campaign "$campaign" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --results "results/shard-${SLURM_ARRAY_TASK_ID}.jsonl"
