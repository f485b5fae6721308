# syntax=docker/dockerfile:1
# The operator: reconciles Agents, Models, MCPServers, HumanQueues and Tenants into Deployments,
# Services, ConfigMaps and status (operators/freehold-operator). The chart runs it with a
# ServiceAccount whose RBAC it also renders; /healthz, /readyz and /metrics are served on 8081.
#
#   docker build -f images/operator.Dockerfile -t freehold-operator .
#
# Node 24 runs the TypeScript sources as they are (type stripping): there is no build step. The
# workspace keeps its pnpm layout (packages linked, not copied into node_modules), because Node does
# not strip types from files under node_modules.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS install
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0
WORKDIR /app
RUN corepack enable
# Dependencies first: this layer is rebuilt only when the lockfile (or a patch of a dependency) changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch --prod
COPY packages ./packages
COPY operators ./operators
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --prod --frozen-lockfile --filter "@freehold/operator..."

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# The `freehold` user (65532, as the operator's pods and the chart run it), by number so that
# Kubernetes can check runAsNonRoot. The files stay root's: the process cannot change its code.
RUN groupadd --gid 65532 freehold && \
    useradd --uid 65532 --gid 65532 --create-home --shell /usr/sbin/nologin freehold
WORKDIR /app
COPY --from=install /app /app
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["node", "operators/freehold-operator/src/main.ts"]
