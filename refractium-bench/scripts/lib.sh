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
