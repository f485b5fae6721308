# syntax=docker/dockerfile:1
# The runtime worker: runs one agent's tool-calling loop (`freehold worker`) with the configuration
# the operator renders into a ConfigMap, mounted at /etc/freehold/config.json. Redis comes from
# FREEHOLD_REDIS_URL, Secret values from FREEHOLD_SECRET_* variables (both set by the operator).
#
#   docker build -f images/runtime.Dockerfile -t freehold-runtime .
#
# Node 24 runs the TypeScript sources as they are (type stripping): there is no build step. The
# workspace keeps its pnpm layout (packages linked, not copied into node_modules), because Node does
# not strip types from files under node_modules.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS install
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0 NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
WORKDIR /app
RUN corepack enable
# Dependencies first: this layer is rebuilt only when the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch --prod
COPY packages ./packages
COPY operators ./operators
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --prod --frozen-lockfile --filter "freehold..."

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# The `freehold` user (65532, as the operator's pods and the chart run it), by number so that
# Kubernetes can check runAsNonRoot. The files stay root's: the process cannot change its code.
RUN groupadd --gid 65532 freehold && \
    useradd --uid 65532 --gid 65532 --create-home --shell /usr/sbin/nologin freehold
WORKDIR /app
COPY --from=install /app /app
# Node's compile cache, warmed here: a worker's modules are stripped of their types and compiled
# once, at build time, not on every start (the type stripper itself is never loaded; a worker starts
# faster and idles smaller). Node keys the cache by user, so it is warmed as the worker's user, then
# handed back to root: the process reads it and cannot change it.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown 65532:65532 "$NODE_COMPILE_CACHE" && \
    su -s /bin/sh -c 'node packages/cli/src/bin.ts --help >/dev/null && \
      node --input-type=module -e "await import(\"/app/packages/cli/src/commands/worker.ts\")"' \
      "$(getent passwd 65532 | cut -d: -f1)" && \
    chown -R root:root "$NODE_COMPILE_CACHE" && chmod -R a-w,a+rX "$NODE_COMPILE_CACHE"
USER 65532:65532
ENTRYPOINT ["node", "packages/cli/src/bin.ts"]
CMD ["worker", "--config", "/etc/freehold/config.json"]
