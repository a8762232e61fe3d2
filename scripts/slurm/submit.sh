#!/usr/bin/env bash
# Runs phylogeny work as a Slurm job array, then merges the parts in one job queued with
# afterok on the whole array (it runs only if every task succeeded):
#
#   scripts/slurm/submit.sh scan  MODELS OUTDIR N [--wait] [-- scan options...]
#       N tasks each scan part i/N of the tensors (`phylogeny scan --shard auto`);
#       the merge writes OUTDIR/scan.json, equal to a one-machine scan.
#   scripts/slurm/submit.sh index MODELS OUTDIR N [--wait] [-- index add options...]
#       N tasks each fingerprint every N-th model (`phylogeny index add --task auto`) into
#       OUTDIR/part-i; the merge writes OUTDIR/index, equal to a one-machine index.
#
# --wait blocks until the merge has finished and fails if any task failed. Extra sbatch
# options (partition, time, CPUs) go in SBATCH_* environment variables, as sbatch reads them.
# The command run on the nodes is `phylogeny` from PATH, or this checkout's built CLI
# (dist/lib/cli/main.js); set NP_PHYLOGENY to choose another. See docs/cluster.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() { echo "usage: $0 scan|index MODELS OUTDIR N [--wait] [-- options...]" >&2; exit 2; }
[ $# -ge 4 ] || usage
kind=$1; models=$2; outdir=$3; n=$4; shift 4
case "$kind" in
  scan) result=scan.json ;;
  index) result=index ;;
  *) usage ;;
esac
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive integer, got '$n'" >&2; exit 2; }
wait=()
if [ "${1:-}" = --wait ]; then wait=(--wait); shift; fi
if [ "${1:-}" = -- ]; then shift; fi
[ -e "$models" ] || { echo "submit.sh: $models does not exist" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "submit.sh: sbatch not found (is this a Slurm login node?)" >&2; exit 2; }

if [ -z "${NP_PHYLOGENY:-}" ]; then
  if command -v phylogeny >/dev/null; then NP_PHYLOGENY=phylogeny
  elif [ -f "$repo/dist/lib/cli/main.js" ]; then NP_PHYLOGENY="$(command -v node) $repo/dist/lib/cli/main.js"
  else echo "submit.sh: no phylogeny command: install the package or run npm run build:ts" >&2; exit 2; fi
fi
export NP_PHYLOGENY
models=$(cd "$(dirname "$models")" && pwd)/$(basename "$models")
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
# Parts of an earlier run would be merged with this one's: start from nothing.
rm -rf "$outdir"/part-* "${outdir:?}/$result"

array=$(sbatch --parsable --array="1-$n" --chdir="$outdir" "$here/$kind-task.sbatch" "$models" "$outdir" "$@")
array=${array%%;*}
echo "submitted array job $array ($n tasks)" >&2
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$outdir" "${wait[@]}" "$here/$kind-merge.sbatch" "$outdir")
echo "submitted merge job ${merge%%;*} (after $array)" >&2
if [ ${#wait[@]} -gt 0 ]; then
  [ -e "$outdir/$result" ] || { echo "submit.sh: no $outdir/$result: a task failed (logs in $outdir)" >&2; exit 1; }
  echo "$outdir/$result"
fi
