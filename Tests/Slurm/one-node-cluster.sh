#!/usr/bin/env bash
# Starts a one-node Slurm cluster (munged, slurmctld, slurmd) in DIR, as
# root, on ports of its own; `stop` ends exactly the daemons it started, by
# the pids it recorded.
#
# Usage: one-node-cluster.sh start DIR   -> prints the SLURM_CONF path
#        one-node-cluster.sh stop DIR
set -euo pipefail
# Descriptors a caller left open (a test runner's pipes) would be held by the
# daemons for ever, and whoever reads them would never see them end.
for fd in $(ls /proc/$$/fd); do
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
done
action="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"

stop() {
    for name in slurmd slurmctld munged; do
        if [[ -f "$dir/$name.pid" ]]; then
            pid="$(cat "$dir/$name.pid")"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$dir/$name.pid"
        fi
    done
    if [[ -f "$dir/runtime-dir" ]]; then rm -rf "$(cat "$dir/runtime-dir")"; rm -f "$dir/runtime-dir"; fi
}

if [[ "$action" == stop ]]; then stop; exit 0; fi
[[ "$action" == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ "$(id -u)" -eq 0 ]] || { echo "one-node-cluster.sh: needs root (munged and slurmd run as root here)" >&2; exit 2; }
for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" >/dev/null || { echo "one-node-cluster.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 2; }
done

host="$(hostname -s)"
cpus="$(nproc)"
mkdir -p "$dir/munge" "$dir/state" "$dir/log"
chmod 700 "$dir/munge"
# Sockets live here (munge's, and slurmd's in its spool folder): a socket's
# path must fit in 108 bytes, and every user must reach it.
runtime="$(mktemp -d /tmp/td-slurm.XXXXXX)"
chmod 755 "$runtime"
mkdir -p "$runtime/spool"
echo "$runtime" > "$dir/runtime-dir"
sockets="$runtime"
# A key of its own, so the cluster trusts nothing outside this directory.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$sockets/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" </dev/null >/dev/null 2>&1

# Ports from this process id, so two clusters on one machine do not meet.
base=$((20000 + ($$ % 2000) * 2))
cat > "$dir/slurm.conf" <<CONF
ClusterName=touchdown-test
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sockets/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$runtime/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$dir/slurm.conf"
# The daemons keep none of this script's standard streams: whoever reads
# its output sees it end when the script does.
slurmctld -f "$SLURM_CONF" </dev/null >/dev/null 2>&1
slurmd -f "$SLURM_CONF" </dev/null >/dev/null 2>&1
for _ in $(seq 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "$SLURM_CONF"
        exit 0
    fi
    sleep 0.1
done
echo "one-node-cluster.sh: the node did not come up; logs in $dir/log" >&2
sinfo >&2 || true
tail -5 "$dir/log/"*.log >&2 || true
stop
exit 1
