#!/bin/sh
# Runs a container service's command for the local runtime and ends it once the runtime is gone,
# however it went (a SIGKILL leaves no time for cleanup): local/containers.ts starts this script
# with its standard input on a pipe from the runtime, and the kernel closes the runtime's end when
# the runtime's process ends. SIGTERM (the runtime stopping or restarting the service) is passed
# on; the script exits with the command's status.
#
#   sh process-leash.sh <program> [arguments...]
set -u

# An asynchronous list reads /dev/null unless told otherwise: keep the pipe on fd 3 for the watcher.
exec 3<&0
# The command keeps the real standard error (fd 4); the shell's own job notices ("Terminated") go nowhere.
exec 4>&2
"$@" </dev/null 2>&4 3<&- 4>&- &
child=$!
exec 2>/dev/null

stop_child() {
    kill -TERM "$child" 2>/dev/null
}
trap stop_child TERM INT HUP

# The runtime's end of the pipe closes: stop the command, and kill it if it lingers.
(
    while IFS= read -r _; do :; done <&3
    kill -TERM "$child" 2>/dev/null
    sleep 5
    kill -KILL "$child" 2>/dev/null
) &
watcher=$!

# `wait` returns early when a trapped signal arrives; wait again until the command has exited.
while :; do
    wait "$child"
    code=$?
    kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$code"
