# Shared by the A/B scripts; sourced, not run.

# start_proxy PORT TEMPLATE LOG [NAME VALUE]...
# Runs TEMPLATE with {port} and each {NAME} replaced by VALUE, on cpu 1, in its own session, its output in LOG; adds
# its process id to PIDS and waits until something listens on PORT.
start_proxy() {
    local port=$1 cmd=${2//\{port\}/$1} log=$3
    shift 3
    while (($# >= 2)); do
        cmd=${cmd//\{$1\}/$2}
        shift 2
    done
    taskset -c 1 setsid bash -c "exec $cmd" >"$log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 120); do
        ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.5
    done
    echo "nothing listens on $port; see $log" >&2
    exit 1
}

# start_http_backend PORT
# Runs nginx on cpu 1 as a small HTTP backend on 127.0.0.1:PORT ("hello" to every request), with its files in T;
# stop_all (the EXIT trap) stops it with the processes in PIDS.
start_http_backend() {
    cat >"$T/nginx.conf" <<NGX
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$1 reuseport backlog=4096; location / { return 200 "hello\n"; } } }
NGX
    taskset -c 1 nginx -c "$T/nginx.conf"
}

# Stops what start_proxy and start_http_backend started, by their process ids.
stop_all() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    if [[ -f $T/nginx.pid ]]; then
        kill "$(cat "$T/nginx.pid")" 2>/dev/null || true
    fi
}
