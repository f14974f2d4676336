#!/usr/bin/env bash
# The production topology on one machine: every eidd role its own process on
# loopback, with the flags of deploy/k8s/base/<role>.yaml — mutual TLS on
# the gRPC port with the role's own certificate, a plaintext health-only
# port, plaintext metrics — and a real Prometheus scraping them all.
#
#   cluster.sh [OPTIONS]                 start (refuses if already running)
#   cluster.sh [OPTIONS] --stop          stop exactly the processes it started
#   cluster.sh [OPTIONS] --status        each process: pid, addresses, health
#   cluster.sh [OPTIONS] --kill NAME     SIGKILL one process (fault tests)
#   cluster.sh [OPTIONS] --restart NAME  start NAME again on its ports
#
# OPTIONS: --dir=DIR (default var/cluster), --eidd=PATH and --eidctl=PATH
# (default bazel-bin/...), --base_port=N (fixed ports N, N+1, ... instead of
# free ones), --prometheus_port=N (default a free one), --scrape_interval=D
# (default 5s).
#
# Everything lives under DIR: NAME/ (its data), NAME.log, NAME.pid,
# NAME.ports, NAME.args (its command line, for --restart), keys/ (one set of
# dev secret files shared by all), certs/ (a dev CA and one certificate per
# identity, tools/certs/make-certs.sh, made on first start), prometheus.yml,
# prometheus/ (its TSDB). Clients use certs/ca.crt and a caller's
# certificate, e.g. certs/operator.{crt,key} for eidctl.
set -euo pipefail

# The topology, in start order (a role's peers come before it): role,
# replicas, and the flags its manifest gives it besides the common ones
# (--services, addresses, --data_dir). {i} is the replica index, {keys} the
# shared keys dir, {shards} the shard list. Every role but shard also gets
# --peers naming the roles started before it. A role this eidd does not
# know is skipped with a message, so a line can come before its role lands.
TOPOLOGY=(
  "shard         3  --shard_id={i} --shutdown_grace=10s"
  "audit         1  --keys_dir={keys} --shutdown_grace=10s"
  "otp           1  --keys_dir={keys} --shards={shards}"
  "activation    1  --keys_dir={keys} --shards={shards}"
  "qr            1  --keys_dir={keys} --shards={shards}"
  "verification  2  --keys_dir={keys} --shards={shards}"
  "reports       1  --keys_dir={keys} --shards={shards}"
)

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=var/cluster
eidd=$root/bazel-bin/services/eidd/eidd
eidctl=$root/bazel-bin/tools/eidctl/eidctl
base_port=0
prometheus_port=0
scrape_interval=5s
action=start
target=

die() { echo "cluster: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dir=*) dir=${1#*=} ;;
    --eidd=*) eidd=${1#*=} ;;
    --eidctl=*) eidctl=${1#*=} ;;
    --base_port=*) base_port=${1#*=} ;;
    --prometheus_port=*) prometheus_port=${1#*=} ;;
    --scrape_interval=*) scrape_interval=${1#*=} ;;
    --stop) action=stop ;;
    --status) action=status ;;
    --kill|--restart)
      action=${1#--}
      [ $# -ge 2 ] || die "$1 needs a process name"
      target=$2
      shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
  esac
  shift
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
keys=$dir/keys
certs=$dir/certs
# eidctl as an operator, over mutual TLS.
ctl_tls=(--tls_ca="$certs/ca.crt" --tls_cert="$certs/operator.crt" --tls_key="$certs/operator.key")

# --- processes ------------------------------------------------------------

# True if the pid recorded for NAME runs and is that process (its command
# line names its own data dir: a reused pid is never taken for it).
alive() {
  local name=$1 pid
  pid=$(running_pid "$name") || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$(marker "$name")"
}

# The recorded pid of NAME if that process exists and is not a zombie
# (killed, not yet reaped), whatever it runs.
running_pid() {
  local pid state
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || return 1
  [ "$state" != Z ] && echo "$pid"
}

# The argument that identifies NAME's process.
marker() {
  if [ "$1" = prometheus ]; then
    echo "--storage.tsdb.path=$dir/prometheus"
  else
    echo "--data_dir=$dir/$1"
  fi
}

processes() { cat "$dir/processes" 2>/dev/null || true; }

# Starts NAME from NAME.args (one argument a line), detached, output to
# NAME.log; records its pid.
launch() {
  local name=$1 args
  mapfile -t args <"$dir/$name.args"
  nohup "${args[@]}" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# Waits (up to 30 s) until eidd NAME has written its port file. Returns 2
# if it exited saying it does not know its role, 1 on any other failure.
await_eidd() {
  local name=$1 i
  for ((i = 0; i < 300; i++)); do
    [ -s "$dir/$name.ports" ] && return 0
    # Not `alive`: just launched, the child may not have exec'd eidd yet, so
    # its command line does not name its data directory.
    if ! running_pid "$name" >/dev/null; then
      grep -q 'unknown role' "$dir/$name.log" && return 2
      return 1
    fi
    sleep 0.1
  done
  return 1
}

port_of() { sed -n "s/^$2=//p" "$dir/$1.ports"; }

# Sends SIGKILL to NAME and waits until it is gone.
kill9() {
  local name=$1 pid i
  alive "$name" || return 0
  pid=$(cat "$dir/$name.pid")
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$name" || return 0; sleep 0.1; done
  die "$name (pid $pid) survived SIGKILL"
}

# SIGTERM (eidd drains), then SIGKILL after 15 s.
stop_one() {
  local name=$1 pid i
  alive "$name" || return 0
  pid=$(cat "$dir/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do alive "$name" || return 0; sleep 0.1; done
  echo "cluster: $name (pid $pid) ignored SIGTERM; SIGKILL" >&2
  kill9 "$name"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- start ----------------------------------------------------------------

# Writes NAME.args for an eidd hosting ROLE; GRPC, METRICS and HEALTH are
# ports (0: a free one, replaced by the bound port once it serves). Like the
# manifests: mutual TLS with the role's own certificate, health in plaintext.
write_eidd_args() {
  local name=$1 role=$2 grpc=$3 metrics=$4 health=$5 flags=$6
  {
    echo "$eidd"
    echo "--services=$role"
    echo "--grpc_address=127.0.0.1:$grpc"
    echo "--metrics_address=127.0.0.1:$metrics"
    echo "--health_address=127.0.0.1:$health"
    echo "--tls_ca=$certs/ca.crt"
    echo "--tls_cert=$certs/$role.crt"
    echo "--tls_key=$certs/$role.key"
    marker "$name"
    echo "--port_file=$dir/$name.ports"
    local f
    for f in $flags; do echo "$f"; done
    # Development only: the first process creates the shared secret files.
    case "$flags" in *--keys_dir=*) echo "--generate_dev_keys" ;; esac
  } >"$dir/$name.args"
}

start_eidd() {
  local name=$1 role=$2 flags=$3 grpc=0 metrics=0 health=0 rc=0
  if [ "$base_port" != 0 ]; then
    grpc=$((base_port + 3 * started)); metrics=$((grpc + 1)); health=$((grpc + 2))
  fi
  rm -f "$dir/$name.ports"
  write_eidd_args "$name" "$role" "$grpc" "$metrics" "$health" "$flags"
  launch "$name"
  await_eidd "$name" || rc=$?
  if [ $rc = 2 ]; then
    echo "cluster: this eidd does not know role $role; $name skipped" >&2
    rm -f "$dir/$name.pid" "$dir/$name.args"
    return 2
  fi
  if [ $rc != 0 ]; then
    kill9 "$name"  # Still starting after 30 s: not left behind unrecorded.
    tail -20 "$dir/$name.log" >&2
    die "$name did not start (log: $dir/$name.log); --stop stops the others"
  fi
  # From now on it always comes back on the same ports (its peers know them).
  write_eidd_args "$name" "$role" "$(port_of "$name" grpc)" "$(port_of "$name" metrics)" \
    "$(port_of "$name" health)" "$flags"
  echo "$name $role" >>"$dir/processes"
  started=$((started + 1))
}

write_prometheus_config() {
  local name role
  {
    echo "# Generated by tools/cluster/cluster.sh: one job per role."
    echo "global:"
    echo "  scrape_interval: $scrape_interval"
    echo "  evaluation_interval: $scrape_interval"
    [ -f "$dir/alerts.yml" ] && printf 'rule_files:\n  - %s\n' "$dir/alerts.yml"
    echo "scrape_configs:"
    local last_role=
    while read -r name role; do
      [ "$role" = prometheus ] && continue
      if [ "$role" != "$last_role" ]; then
        echo "  - job_name: $role"
        echo "    static_configs:"
        last_role=$role
      fi
      echo "      - targets: ['127.0.0.1:$(port_of "$name" metrics)']"
      echo "        labels: {process: $name}"
    done < <(processes)
  } >"$dir/prometheus.yml"
}

# Waits (up to 30 s) until Prometheus answers /-/ready.
await_prometheus() {
  local port i
  port=$(port_of prometheus prometheus)
  for ((i = 0; i < 300; i++)); do
    curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
    running_pid prometheus >/dev/null || { tail -20 "$dir/prometheus.log" >&2; die "prometheus did not start"; }
    sleep 0.1
  done
  kill9 prometheus
  die "prometheus not ready after 30 s (log: $dir/prometheus.log)"
}

start_prometheus() {
  local port=$prometheus_port
  [ "$port" != 0 ] || port=$(free_port)
  # The alert rules of deploy/prometheus, evaluated here too.
  if [ -f "$root/deploy/prometheus/alerts.yml" ]; then
    cp "$root/deploy/prometheus/alerts.yml" "$dir/alerts.yml"
  fi
  write_prometheus_config
  printf '%s\n' prometheus "--config.file=$dir/prometheus.yml" \
    "$(marker prometheus)" "--web.listen-address=127.0.0.1:$port" \
    >"$dir/prometheus.args"
  echo "prometheus=$port" >"$dir/prometheus.ports"
  launch prometheus
  await_prometheus
  echo "prometheus prometheus" >>"$dir/processes"
}

cmd_start() {
  local name
  while read -r name _; do
    alive "$name" && die "already running ($name); --stop first"
  done < <(processes)
  [ -x "$eidd" ] || die "no eidd at $eidd (bazel build //services/eidd, or --eidd=)"
  command -v prometheus >/dev/null || die "no prometheus binary (tools/bootstrap)"
  # Development only: a dev CA and every identity's certificate, once.
  "$root/tools/certs/make-certs.sh" "$certs" || die "make-certs.sh failed"
  : >"$dir/processes"
  started=0
  local shards="" peers="" line role count flags i f addr
  for line in "${TOPOLOGY[@]}"; do
    read -r role count flags <<<"$line"
    local first=""
    for ((i = 0; i < count; i++)); do
      name=$role
      [ "$count" -gt 1 ] && name=$role-$i
      f=${flags//\{i\}/$i}
      f=${f//\{keys\}/$keys}
      f=${f//\{shards\}/${shards%,}}
      [ "$role" != shard ] && [ -n "$peers" ] && f="$f --peers=${peers%,}"
      start_eidd "$name" "$role" "$f" || continue
      addr="127.0.0.1:$(port_of "$name" grpc)"
      [ "$role" = shard ] && shards="$shards$addr,"
      [ -z "$first" ] && first=$addr
    done
    [ "$role" != shard ] && [ -n "$first" ] && peers="${peers}$role=$first,"
  done
  start_prometheus
  cmd_addresses
}

cmd_addresses() {
  local name role
  printf '%-16s %-7s %-22s %-7s %s\n' PROCESS PID "GRPC (mTLS)" HEALTH METRICS
  while read -r name role; do
    if [ "$role" = prometheus ]; then
      printf '%-16s %-7s %-22s %-7s %s\n' "$name" "$(cat "$dir/$name.pid")" - - \
        "http://127.0.0.1:$(port_of prometheus prometheus)/"
    else
      printf '%-16s %-7s %-22s %-7s %s\n' "$name" "$(cat "$dir/$name.pid")" \
        "127.0.0.1:$(port_of "$name" grpc)" "$(port_of "$name" health)" \
        "http://127.0.0.1:$(port_of "$name" metrics)/metrics"
    fi
  done < <(processes)
  echo "logs: $dir/NAME.log; keys: $keys; SMS outbox: $dir/otp/sms-outbox.jsonl"
  echo "certs: $certs; eidctl ${ctl_tls[*]} --server=127.0.0.1:PORT ..."
}

# --- the other commands ---------------------------------------------------

cmd_stop() {
  local names name
  mapfile -t names < <(processes | cut -d' ' -f1)
  # Reverse start order: a role's peers outlive it.
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do
    name=${names[i]}
    stop_one "$name"
    rm -f "$dir/$name.pid"
  done
  : >"$dir/processes"
  echo "cluster: stopped ${#names[@]} processes" >&2
}

cmd_status() {
  local name role state health all=0
  if [ -z "$(processes)" ]; then
    echo "cluster: not running (nothing started under $dir)" >&2
    return 1
  fi
  printf '%-16s %-7s %-22s %s\n' PROCESS PID GRPC STATE
  while read -r name role; do
    if ! alive "$name"; then
      state=DOWN; all=1
    elif [ "$role" = prometheus ]; then
      state=READY
      curl -sf "http://127.0.0.1:$(port_of prometheus prometheus)/-/ready" >/dev/null \
        || { state=NOT_READY; all=1; }
    elif [ -x "$eidctl" ]; then
      state=SERVING
      health=$("$eidctl" "${ctl_tls[@]}" --timeout=2s \
        --server="127.0.0.1:$(port_of "$name" grpc)" health 2>&1) \
        || { state="UNHEALTHY $(echo "$health" | awk 'NR>1 && $2!="SERVING" && $2!="NOT_HOSTED" {printf "%s=%s ", $1, $2}')"; all=1; }
    else
      state=RUNNING
    fi
    printf '%-16s %-7s %-22s %s\n' "$name" "$(cat "$dir/$name.pid" 2>/dev/null || echo -)" \
      "$([ "$role" = prometheus ] && echo "127.0.0.1:$(port_of prometheus prometheus)" \
         || echo "127.0.0.1:$(port_of "$name" grpc)")" "$state"
  done < <(processes)
  return $all
}

known() { processes | cut -d' ' -f1 | grep -qxF -- "$1" || die "no process $1 (see --status)"; }

cmd_restart() {
  local name=$1 i
  known "$name"
  kill9 "$name"
  if [ "$name" = prometheus ]; then
    launch prometheus
    await_prometheus
    return 0
  fi
  rm -f "$dir/$name.ports"
  launch "$name"
  if ! await_eidd "$name"; then
    kill9 "$name"
    die "$name did not restart (log: $dir/$name.log)"
  fi
  echo "cluster: $name restarted (pid $(cat "$dir/$name.pid"))" >&2
}

case "$action" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  kill) known "$target"; kill9 "$target"; echo "cluster: $target killed" >&2 ;;
  restart) cmd_restart "$target" ;;
esac
