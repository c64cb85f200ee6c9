# The worker and the API (and the one-shot setup) share this image; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY config ./config
COPY domain ./domain
COPY db ./db
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY stack ./stack
COPY observability ./observability
COPY codec ./codec
USER node
CMD ["npm", "run", "api"]
