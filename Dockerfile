# One image for every app; docker-compose.yml picks the app with the command.
FROM node:20-bookworm-slim
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH TURBO_TELEMETRY_DISABLED=1
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY . .
# Development secrets are generated into .dev at first start; a named volume mounted there inherits this owner.
RUN pnpm install --frozen-lockfile && pnpm run db:generate && mkdir -p /app/.dev && chown node:node /app/.dev
USER node
EXPOSE 3000 3001 3002 3999
CMD ["pnpm", "--dir", "apps/gateway", "start"]
