#!/bin/sh
# `freehold` as the runtime image runs it (copied into the bundle by scripts/build.ts, linked onto
# PATH by images/runtime.Dockerfile). `freehold worker` starts from the worker's startup snapshot
# beside it (worker.blob: src/worker-snapshot.ts), every other command from the bundle (bin.js).
# `exec`: Node takes this process's place, so it receives the signals sent to the container.
bundle=$(readlink -f -- "$0")
bundle=${bundle%/*}
if [ "$1" = worker ] && [ -f "$bundle/worker.blob" ]; then
  exec node --snapshot-blob "$bundle/worker.blob" "$@"
fi
exec node "$bundle/bin.js" "$@"
