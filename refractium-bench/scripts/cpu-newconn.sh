#!/usr/bin/env bash
# CPU time one proxy spends per new connection: user and system microseconds per request over a wrk run with a new
# connection per request (wrk -t1 -c32, Connection: close), read from /proc/PID/stat of the proxy (and its child
# processes) before and after.
#
# Starts nginx on 127.0.0.1 as the HTTP backend and the proxy, both on cpu 1, wrk on cpu 0, as in ../shared/bench.
# Only the processes it started are stopped, by their process ids.
#
#   P_CMD           the proxy command template; {port} is the port to listen on, {http_port} the backend's
#   WARMUP=30 SECONDS_PER_RUN=10
#
# Example:
#   P_CMD='java -XX:+UseParallelGC -Xms256m -Xmx512m -jar refractium-server/target/refractium.jar --access-log off --listen 127.0.0.1:{port} --route http=127.0.0.1:{http_port}' \
#   bash refractium-bench/scripts/cpu-newconn.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${P_CMD:?set P_CMD}"
WARMUP=${WARMUP:-30}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
HTTP_PORT=${HTTP_PORT:-21080}; PORT=${PORT:-21001}
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (apt-get install wrk nginx)" >&2; exit 2; }
T=$(mktemp -d)
PIDS=()
trap stop_all EXIT
start_http_backend "$HTTP_PORT"
start_proxy "$PORT" "$P_CMD" "$T/proxy.log" http_port "$HTTP_PORT"
PROXY=${PIDS[-1]}
run() { taskset -c 0 wrk -t1 -c32 -d"$1"s -H 'Connection: close' "http://127.0.0.1:$PORT/" 2>/dev/null; }
ticks() { # user and system clock ticks of the proxy and its children
    local u=0 s=0 a b
    for p in "$PROXY" $(pgrep -P "$PROXY" || true); do
        read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat")
        u=$((u + a)); s=$((s + b))
    done
    echo "$u $s"
}
((WARMUP > 0)) && run "$WARMUP" >/dev/null
read -r u0 s0 < <(ticks)
out=$(run "$SECONDS_PER_RUN")
read -r u1 s1 < <(ticks)
n=$(awk '/requests in/ {print $1}' <<<"$out")
awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v n="$n" -v hz="$(getconf CLK_TCK)" -v rate="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" 'BEGIN {
    printf "%s conn/s  user %.1f us/conn  system %.1f us/conn  total %.1f us/conn\n", rate, u / hz / n * 1e6, s / hz / n * 1e6, (u + s) / hz / n * 1e6 }'
