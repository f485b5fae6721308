# syntax=docker/dockerfile:1
# The runtime worker: runs one agent's tool-calling loop (`freehold worker`) with the configuration
# the operator renders into a ConfigMap, mounted at /etc/freehold/config.json. Redis comes from
# FREEHOLD_REDIS_URL, Secret values from FREEHOLD_SECRET_* variables (both set by the operator).
#
#   docker build -f images/runtime.Dockerfile -t freehold-runtime .
#
# The worker runs the bundled `freehold` (packages/cli/scripts/build.ts): a few files instead of
# hundreds of modules, no type stripping at start. `freehold worker` starts from the worker's startup
# snapshot (packages/cli/src/worker-snapshot.ts): its modules already loaded, it reaches its first
# model call in about half the time. The production install stays beside it for the modules the
# bundle loads at run time (the in-process model runtime, prom-client, the frameworks).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS install
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0 NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
WORKDIR /app
RUN corepack enable
# Dependencies first: this layer is rebuilt only when the lockfile (or a patch of a dependency) changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch --prod
COPY packages ./packages
COPY operators ./operators
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --prod --frozen-lockfile --filter "freehold..."

# The bundle, built with the CLI's build tools (a development install of its own).
FROM install AS build
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --frozen-lockfile --filter "freehold..."
RUN node packages/cli/scripts/build.ts

FROM ${NODE_IMAGE}
# V8 grows its young generation to 64 MiB per semi-space on a machine with memory to spare, and a
# worker's bursts of runs (each handing off and then waiting for hours) leave it there: about 100 KiB
# of resident memory per run that has finished its steps. Capped at 16 MiB (V8's former default), a
# waiting run holds about 15 KiB (bench/worker-memory.ts); handoff throughput with and without the
# cap differed by less than run-to-run noise in the one pair measured (bench/handoff-throughput.ts).
# The benches and the image test start workers with this line's options (the value may be quoted)
# and the allocator's settings below (test/fixtures/image-environment.ts).
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=16
# glibc's allocator keeps what Node's threads free: an arena per thread (V8's compiler and garbage
# collector helpers, libuv's pool), and, once a large buffer has been freed, a trim threshold grown to
# its size, so the freed memory stays resident. One arena and the threshold fixed at 128 KiB give it
# back: an idle worker holds about 85 MiB instead of 97 (bench/worker-memory.ts, steady state after
# 30 s of quiet), with handoff throughput and cold start within run-to-run noise. Other C libraries
# ignore them.
ENV MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=131072
# A worker starts by reading its startup snapshot (13 MB) into memory the allocator takes fresh from the
# kernel, and copying it: about 14,600 page faults to its first model call. With the allocator asking
# for transparent huge pages on its large blocks (glibc 2.35 and later; where the node's kernel allows
# them: `madvise` or `always`), about 6,200 of those go and it reaches its first model call 10-14 ms
# sooner (medians of 20 starts with and 20 without, alternated, each started as bench/cold-start.ts
# starts the worker; one bench:cold-start run cannot show it); an idle worker holds about 1.3 MiB
# more (bench/worker-memory.ts).
# Ignored by other C libraries and where the kernel's setting is `never`.
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1
# The `freehold` user (65532, as the operator's pods and the chart run it), by number so that
# Kubernetes can check runAsNonRoot. The files stay root's: the process cannot change its code.
RUN groupadd --gid 65532 freehold && \
    useradd --uid 65532 --gid 65532 --create-home --shell /usr/sbin/nologin freehold
WORKDIR /app
COPY --from=install /app /app
COPY --from=build /app/packages/cli/bundle /app/packages/cli/bundle
# The worker's startup snapshot, built again here by this image's Node, in the folder it runs from: a
# snapshot starts only the Node binary that built it, and its modules keep the paths they were
# loaded from.
RUN node --snapshot-blob /app/packages/cli/bundle/worker.blob --build-snapshot /app/packages/cli/bundle/worker-snapshot.cjs
# The operator's Deployments run `freehold worker ...`: the command is on PATH. It is the bundle's
# `freehold` script (packages/cli/scripts/freehold.sh): `freehold worker` from the snapshot, every
# other command from the bundle's bin.js.
RUN ln -s /app/packages/cli/bundle/freehold /usr/local/bin/freehold
# The frameworks the adapters drive, resolvable from agents' own code under /app (spec.code, whose
# code root is the working directory): the code and the adapter share one copy of the framework,
# whose runner checks the code's objects with instanceof.
RUN mkdir -p /app/node_modules/@openai /app/node_modules/@langchain /app/node_modules/@mastra && \
    for framework in ai @openai/agents @openai/agents-core @langchain/core @langchain/langgraph @mastra/core zod; do \
      ln -sfn "/app/packages/cli/node_modules/$framework" "/app/node_modules/$framework"; \
    done
# Node's compile cache, warmed here: the bundle's code is compiled once, at build time, not on every
# start (other commands, and workers the snapshot cannot serve, which start from the bundle). Node
# keys the cache by user, so it is warmed as the worker's user (a start that fails at once on a
# missing configuration still loads the worker's code), then handed back to root: the process reads
# it and cannot change it. The last start checks that a worker starts from the snapshot.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown 65532:65532 "$NODE_COMPILE_CACHE" && \
    su -s /bin/sh -c 'set -e; freehold --help >/dev/null; \
      code=0; node /app/packages/cli/bundle/bin.js worker --config /nonexistent/config.json --redis-url redis://127.0.0.1:1 >/dev/null 2>&1 || code=$?; test "$code" -eq 1; \
      out="$(freehold worker --config /nonexistent/config.json --redis-url redis://127.0.0.1:1 2>&1 || true)"; \
      case "$out" in "error: "*"(worker.config-missing)") ;; *) echo "$out"; exit 1 ;; esac' \
      "$(getent passwd 65532 | cut -d: -f1)" && \
    chown -R root:root "$NODE_COMPILE_CACHE" && chmod -R a-w,a+rX "$NODE_COMPILE_CACHE"
USER 65532:65532
ENTRYPOINT ["freehold"]
CMD ["worker", "--config", "/etc/freehold/config.json"]
