#!/usr/bin/env bash
# A/B of bulk throughput (iperf3, one stream, each direction) through two proxy command lines and directly, rounds
# interleaved in one run.
#
# Starts an iperf3 server on 127.0.0.1 as the backend, then the two proxies (A and B) side by side, each listening on
# its own port; the backend and the proxies run on cpu 1 and the iperf3 client on cpu 0, as in ../shared/bench. Each
# round measures, per direction (upload, then download with -R): direct, A, B, and prints the ratios to the direct
# figure of the same round. Only the processes it started are stopped, by their process ids.
#
#   A_CMD / B_CMD   proxy command templates; {port} is the port to listen on, {any_port} the iperf3 server's
#   ROUNDS=3 SECONDS_PER_RUN=5
#
# Example (epoll against io_uring):
#   JAR="refractium-server/target/refractium.jar --access-log off"
#   A_CMD="java -XX:+UseParallelGC -Xms256m -Xmx512m -jar $JAR --listen 127.0.0.1:{port} --fallback 127.0.0.1:{any_port}" \
#   B_CMD="java -XX:+UseParallelGC -Xms256m -Xmx512m -jar $JAR --transport io_uring --listen 127.0.0.1:{port} --fallback 127.0.0.1:{any_port}" \
#   bash refractium-bench/scripts/ab-bulk.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${A_CMD:?set A_CMD}" "${B_CMD:?set B_CMD}"
ROUNDS=${ROUNDS:-3}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ANY_PORT=${ANY_PORT:-21090}; A_PORT=${A_PORT:-21001}; B_PORT=${B_PORT:-21002}
command -v iperf3 >/dev/null || { echo "needs iperf3 (apt-get install iperf3)" >&2; exit 2; }
T=$(mktemp -d)
PIDS=()
trap stop_all EXIT
taskset -c 1 iperf3 -s -p "$ANY_PORT" >"$T/iperf3.log" 2>&1 &
PIDS+=($!)
start_proxy "$A_PORT" "$A_CMD" "$T/a.log" any_port "$ANY_PORT"
start_proxy "$B_PORT" "$B_CMD" "$T/b.log" any_port "$ANY_PORT"
gbits() { # port [-R]
    taskset -c 0 timeout $((SECONDS_PER_RUN + 20)) iperf3 -c 127.0.0.1 -p "$1" -t "$SECONDS_PER_RUN" ${2:+"$2"} -J \
        2>/dev/null | python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}
gbits "$A_PORT" >/dev/null; gbits "$B_PORT" >/dev/null
for i in $(seq 1 "$ROUNDS"); do
    for dir in "" -R; do
        d=$(gbits "$ANY_PORT" "$dir"); a=$(gbits "$A_PORT" "$dir"); b=$(gbits "$B_PORT" "$dir")
        awk -v i="$i" -v w="${dir:-up}" -v d="$d" -v a="$a" -v b="$b" 'BEGIN {
            printf "round %d %-4s direct %6.2f Gbit/s  A %6.2f (%.2fx)  B %6.2f (%.2fx)\n", i, (w == "-R" ? "down" : w), d, a, a / d, b, b / d }'
    done
done
