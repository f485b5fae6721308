# syntax=docker/dockerfile:1
# The gateway: the HTTP API (runs, SSE events, inbox, approvals, A2A, OpenAPI) and the web console
# at / over Redis, from `freehold gateway` (which finds the console beside its bundle). Redis comes from FREEHOLD_REDIS_URL (the chart sets it); it listens on 8080.
#
#   docker build -f images/gateway.Dockerfile -t freehold-gateway .
#
# It runs the bundled `freehold` (packages/cli/scripts/build.ts), as the runtime image does; the
# production install stays beside it for the modules the bundle loads at run time (prom-client).
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
# The web console the gateway serves at / (its built files only).
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --frozen-lockfile --filter "@freehold/console..."
RUN node packages/console/scripts/build.ts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# The `freehold` user (65532, as the operator's pods and the chart run it), by number so that
# Kubernetes can check runAsNonRoot. The files stay root's: the process cannot change its code.
RUN groupadd --gid 65532 freehold && \
    useradd --uid 65532 --gid 65532 --create-home --shell /usr/sbin/nologin freehold
WORKDIR /app
COPY --from=install /app /app
COPY --from=build /app/packages/cli/bundle /app/packages/cli/bundle
COPY --from=build /app/packages/console/dist /app/packages/console/dist
RUN ln -s /app/packages/cli/bundle/bin.js /usr/local/bin/freehold
USER 65532:65532
ENTRYPOINT ["freehold"]
EXPOSE 8080
CMD ["gateway", "--port", "8080", "--host", "0.0.0.0"]
