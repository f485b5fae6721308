# syntax=docker/dockerfile:1
# The gateway: the HTTP API (runs, SSE events, inbox, approvals, A2A, OpenAPI) over Redis, from
# `freehold gateway`. Redis comes from FREEHOLD_REDIS_URL (the chart sets it); it listens on 8080.
#
#   docker build -f images/gateway.Dockerfile -t freehold-gateway .
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
USER 65532:65532
ENTRYPOINT ["node", "packages/cli/src/bin.ts"]
EXPOSE 8080
CMD ["gateway", "--port", "8080", "--host", "0.0.0.0"]
