# syntax=docker/dockerfile:1
# One image for every app; docker-compose.yml picks the app with the command (`node apps/<app>/dist/<entry>.js`).
# Build: docker build -t tiktok-multi-connect .   (NODE_IMAGE lets you use a mirror of the same base image.)
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full install, compile every app, then cut node_modules down to production dependencies -------------
FROM ${NODE_IMAGE} AS build
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH TURBO_TELEMETRY_DISABLED=1 CI=1
RUN npm install -g pnpm@12.4.2
WORKDIR /src
# The lockfile alone decides what is downloaded: this layer stays cached until pnpm-lock.yaml changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch --frozen-lockfile
# Then the manifests (a source change does not invalidate the install), installed from the fetched store.
# Every workspace package's manifest: a frozen install needs each importer of the lockfile (config's
# deployment-files test fails when one is missing).
COPY package.json ./
COPY apps/admin/package.json apps/admin/
COPY apps/demo-upstream/package.json apps/demo-upstream/
COPY apps/gateway/package.json apps/gateway/
COPY apps/tiktok-sandbox/package.json apps/tiktok-sandbox/
COPY apps/worker/package.json apps/worker/
COPY packages/accounts/package.json packages/accounts/
COPY packages/config/package.json packages/config/
COPY packages/connect-js/package.json packages/connect-js/
COPY packages/crypto/package.json packages/crypto/
COPY packages/db/package.json packages/db/
COPY packages/devtools/package.json packages/devtools/
COPY packages/faults/package.json packages/faults/
COPY packages/queue/package.json packages/queue/
COPY packages/testing/package.json packages/testing/
COPY packages/tiktok/package.json packages/tiktok/
COPY packages/webhooks/package.json packages/webhooks/
RUN pnpm install --frozen-lockfile --offline
# Sources last: `pnpm build` generates the Prisma client and bundles each app into its dist/.
COPY . .
RUN pnpm build
# The projects the runtime stage holds: the four apps and the two command-line tools (migrate, reencrypt).
ARG RUNTIME_PROJECTS="apps/gateway apps/admin apps/worker apps/tiktok-sandbox packages/db packages/accounts"
# Their production dependencies and nothing else (no biome, turbo, typescript, vitest, playwright, prisma CLI, tests,
# source maps of dependencies): see docker/prune-node-modules.mjs. Then /runtime gets what the runtime stage copies.
RUN rm -rf node_modules apps/*/node_modules packages/*/node_modules \
  && pnpm install --prod --frozen-lockfile --offline --ignore-scripts $(printf -- '--filter ./%s ' $RUNTIME_PROJECTS) \
  && node docker/prune-node-modules.mjs . $RUNTIME_PROJECTS \
  && mkdir /runtime \
  && cp -a --parents package.json node_modules prisma/migrations docker/healthcheck.mjs /runtime \
  && for project in $RUNTIME_PROJECTS; do \
       cp -a --parents "$project/package.json" "$project/node_modules" "$project/dist" /runtime; \
     done

# ---- runtime: node, tini, the compiled apps and their production dependencies ------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node (which runs the ordered shutdown) and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /runtime ./
# Everything above belongs to root and is read-only for the app. The one place it writes is .dev, and only in
# development (generated secrets, docker-compose.sandbox.yml): a volume mounted there inherits this owner.
RUN mkdir -p /app/.dev && chown node:node /app/.dev
USER node
EXPOSE 3000 3001 3002 3999
# The gateway's readiness by default; docker-compose.yml sets each app's own URL.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "docker/healthcheck.mjs", "http://127.0.0.1:3000/readyz"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/gateway/dist/server.js"]
