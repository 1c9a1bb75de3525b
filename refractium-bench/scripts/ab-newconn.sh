#!/usr/bin/env bash
# A/B of new connections per second through two proxy command lines, interleaved in one run.
#
# Starts nginx on 127.0.0.1 as the HTTP backend, then the two proxies (A and B) side by side, each listening on its
# own port; the backend and the proxies run on cpu 1 and wrk on cpu 0, as in ../shared/bench. Rounds alternate
# A, B, A, B, ... (wrk -t1 -c32, one new connection per request, ROUND seconds each) and the script prints each
# round, the medians and the ratio B/A. Only the processes it started are stopped, by their process ids.
#
#   A_CMD / B_CMD   proxy command templates; {port} is the port to listen on, {http_port} the backend's
#   ROUNDS=5 ROUND=5 WARMUP=3
#   KEEPALIVE=1     keep-alive requests on 32 connections instead of a new connection per request
#   SETTLE=1        before every measured run, wait (at most 75 s) until fewer than 1 000 sockets are in TIME_WAIT:
#                   each new connection leaves two for 60 s, the ephemeral port range fills within seconds, and a
#                   run that starts on a full range is slower than one that starts on an empty one
#
# Example (the server's quick flags, without the access log, without and with admission limits):
#   JAR="refractium-server/target/refractium.jar --access-log off"
#   A_CMD="java -XX:+UseParallelGC -Xms256m -Xmx512m -jar $JAR --listen 127.0.0.1:{port} --route http=127.0.0.1:{http_port}" \
#   B_CMD="$A_CMD --max-connections 100000 --max-connections-per-ip 50000 --rate-per-ip 1000000/s,burst=1000000" \
#   bash refractium-bench/scripts/ab-newconn.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${A_CMD:?set A_CMD}" "${B_CMD:?set B_CMD}"
ROUNDS=${ROUNDS:-5}; ROUND=${ROUND:-5}; WARMUP=${WARMUP:-3}
HTTP_PORT=${HTTP_PORT:-21080}; A_PORT=${A_PORT:-21001}; B_PORT=${B_PORT:-21002}
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (apt-get install wrk nginx)" >&2; exit 2; }
T=$(mktemp -d)
PIDS=()
trap stop_all EXIT
start_http_backend "$HTTP_PORT"
start_proxy "$A_PORT" "$A_CMD" "$T/a.log" http_port "$HTTP_PORT"
start_proxy "$B_PORT" "$B_CMD" "$T/b.log" http_port "$HTTP_PORT"
rate() { # port seconds
    local close=(-H 'Connection: close'); [[ ${KEEPALIVE:-0} == 1 ]] && close=()
    taskset -c 0 wrk -t1 -c32 -d"$2"s "${close[@]}" "http://127.0.0.1:$1/" 2>/dev/null \
        | awk '/Requests\/sec/ {print $2}'
}
settle() {
    [[ ${SETTLE:-0} == 1 ]] || return 0
    local end=$((SECONDS + 75))
    while (($(ss -Htan state time-wait | wc -l) >= 1000 && SECONDS < end)); do sleep 1; done
}
rate "$A_PORT" "$WARMUP" >/dev/null; rate "$B_PORT" "$WARMUP" >/dev/null
A=(); B=()
for i in $(seq 1 "$ROUNDS"); do
    settle; a=$(rate "$A_PORT" "$ROUND")
    settle; b=$(rate "$B_PORT" "$ROUND")
    A+=("$a"); B+=("$b")
    printf 'round %d  A %10s req/s  B %10s req/s\n' "$i" "$a" "$b"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ma=$(median "${A[@]}"); mb=$(median "${B[@]}")
awk -v a="$ma" -v b="$mb" 'BEGIN {printf "median  A %.0f  B %.0f  B/A %.3f\n", a, b, b / a}'
