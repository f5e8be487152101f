#!/bin/sh
# Stops the PostgreSQL serving a data folder once the local runtime that started it is gone, however
# it went: stopped by SIGKILL (a watchdog, the OOM killer, `kill -9`) or crashed before any cleanup
# could run. local/postgres.ts starts this script with its standard input on a pipe from the
# runtime; the kernel closes the runtime's end when its process ends, whatever ended it. A runtime
# that stops PostgreSQL itself writes "release" first, and nothing is done.
#
#   sh postgres-watchdog.sh <data folder>
#
# A shell script rather than Node: it sits idle for the whole session and costs ~2 MB, not ~40.
set -u
data_dir=$1

released=no
while IFS= read -r line; do
    [ "$line" = release ] && released=yes
done
[ "$released" = yes ] && exit 0

# Running, and not a zombie: an orphan that exits is not always reaped (containers without init).
is_running() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -c1)
    else
        state=$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)
    fi
    [ "$state" != Z ]
}

# The pid in the folder's lock file, when that process is a postgres serving this folder (a stale
# lock file may name a pid that now belongs to something else).
postmaster_pid() {
    pid=$(head -n 1 "$data_dir/postmaster.pid" 2>/dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    is_running "$pid" || return 1
    if [ -r "/proc/$pid/cmdline" ]; then
        command=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    else
        command="$(ps -o command= -p "$pid" 2>/dev/null) "
    fi
    case $command in *postgres*" -D $data_dir "*) echo "$pid" ;; *) return 1 ;; esac
}

# A server still starting may not have written its lock file yet.
pid=
for _ in 1 2 3; do
    pid=$(postmaster_pid) && break
    pid=
    sleep 1
done
[ -n "$pid" ] || exit 0

echo "postgres-watchdog: the local runtime is gone; stopping PostgreSQL (pid $pid) in $data_dir" >&2
# Fast shutdown: sessions end, a checkpoint is written, the lock file is removed.
kill -INT "$pid" 2>/dev/null
waited=0
while is_running "$pid"; do
    # Still there after 10 s: immediate shutdown (crash recovery at the next start).
    [ "$waited" -eq 100 ] && kill -QUIT "$pid" 2>/dev/null
    if [ "$waited" -ge 200 ]; then
        echo "postgres-watchdog: PostgreSQL (pid $pid) did not stop; stop it with: kill $pid" >&2
        exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
done
