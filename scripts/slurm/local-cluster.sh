#!/usr/bin/env bash
# A single-node Slurm cluster for tests and CI, in one private directory and without systemd:
# munged and the two Slurm daemons run in the foreground under this script's background jobs.
#
#   scripts/slurm/local-cluster.sh start [DIR]   # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm/local-cluster.sh stop  [DIR]
#
# DIR defaults to /tmp/np-slurm. Needs Debian's slurm-wlm and munge, and root (slurmd starts
# job steps as the submitting user). Nothing outside DIR is written: its own munge key,
# socket, state and logs live there, so it never touches a real cluster's configuration.
set -euo pipefail

cmd=${1:-}
dir=${2:-/tmp/np-slurm}
conf="$dir/slurm.conf"

die() { echo "local-cluster: $*" >&2; exit 1; }

start() {
  for b in munged slurmctld slurmd sinfo; do command -v "$b" >/dev/null || die "$b not found (apt-get install slurm-wlm munge)"; done
  [ "$(id -u)" = 0 ] || die "run as root: slurmd must start job steps as the submitting user"
  if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    echo "export SLURM_CONF=$conf"; return 0
  fi
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir" "$dir/munge"
  # A fresh random key for this private cluster only.
  [ -f "$dir/munge/munge.key" ] || { head -c 1024 /dev/urandom > "$dir/munge/munge.key"; chmod 600 "$dir/munge/munge.key"; }
  munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  cat > "$conf" <<CONF
ClusterName=np-local
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$conf"
  # -D: foreground (no systemd, no fork); the shell's background job keeps them alive.
  nohup slurmctld -D -i -f "$conf" >"$dir/slurmctld.out" 2>&1 &
  echo $! > "$dir/slurmctld.pid"
  nohup slurmd -D -f "$conf" >"$dir/slurmd.out" 2>&1 &
  echo $! > "$dir/slurmd.pid"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "export SLURM_CONF=$conf"; return 0
    fi
    sleep 0.5
  done
  echo "--- slurmctld log" >&2; tail -20 "$dir/slurmctld.log" "$dir/slurmctld.out" >&2 || true
  echo "--- slurmd log" >&2; tail -20 "$dir/slurmd.log" "$dir/slurmd.out" >&2 || true
  stop  # leave nothing running behind a failed start (e.g. another cluster holds the ports)
  die "the node did not come up within 30 s (logs above; are ports 16817/16818 taken?)"
}

stop() {
  local pids=() f p
  for f in slurmd slurmctld munge/munged; do
    [ -f "$dir/$f.pid" ] || continue
    p=$(cat "$dir/$f.pid")
    kill "$p" 2>/dev/null && pids+=("$p")
    rm -f "$dir/$f.pid"
  done
  # Wait (up to 10 s) until they are gone, so the ports are free for the next start.
  for _ in $(seq 1 40); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" | cut -c1)" != Z ] && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.25
  done
  return 0
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
