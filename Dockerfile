# The worker and the API (and the one-shot setup) share this image; docker-compose.yml picks the command.
# It runs the TypeScript sources with tsx (a runtime dependency): the sources import without file
# extensions (moduleResolution "Bundler"), which tsc's output would keep and Node's ESM loader refuses,
# and the worker bundles workflows/ from source at start anyway. Verified without Docker
# (docs/operations/production.md): `npm ci --omit=dev --ignore-scripts` in a clean copy, then setup, worker and
# API from it against the Temporal server on Postgres.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# No install scripts: esbuild and @swc/core take their binaries from optional packages; nothing else needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY config ./config
COPY codec ./codec
COPY domain ./domain
COPY contracts ./contracts
COPY db ./db
COPY workflows ./workflows
COPY activities ./activities
COPY capture ./capture
COPY worker ./worker
COPY api ./api
COPY stack ./stack
COPY observability ./observability
USER node
# Node directly, not through npm, so that `docker stop`'s SIGTERM reaches the service and it shuts down gracefully.
CMD ["node", "--import", "tsx", "api/main.ts"]
