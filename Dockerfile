# syntax=docker/dockerfile:1
# raven-connect. `docker build .` gives the production image (the last stage, `runtime`);
# docker-compose.yml also builds the `sandbox` stage for the demo's Raven, Leaf and host app.
ARG NODE_IMAGE=node:20-bookworm-slim

# Every dependency: what the build and the sandboxes need.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# TypeScript to dist/.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Demo only: the sandboxes (oidc-provider and tsx are dev dependencies), never deployed.
FROM deps AS sandbox
COPY tsconfig.json ./
COPY src ./src
COPY sandboxes ./sandboxes
USER node
CMD ["node", "--import", "tsx", "sandboxes/raven/main.ts"]

# The production service: non-root, production dependencies, compiled JavaScript.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# Owned by root and only readable by the `node` user that runs the service: it cannot rewrite its code.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY public ./public
COPY sdk ./sdk
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.ts drains in-flight callbacks on SIGTERM (15 s) before closing Redis; give it that long.
STOPSIGNAL SIGTERM
CMD ["npm", "start"]
