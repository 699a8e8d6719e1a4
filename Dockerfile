# syntax=docker/dockerfile:1
# One image for the API, the worker, the delivery relay and the migration step; docker-compose picks
# the role with the command. Build stage: compile TypeScript and bundle the workflow code once. Runtime: Node 22 LTS,
# production dependencies only, non-root.
FROM node:22.21.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22.21.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
