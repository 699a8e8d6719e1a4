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
# A container is reached through its published port, so the API listens on every interface here
# (outside a container HOST defaults to 127.0.0.1). Production mode refuses development secrets.
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
# Owned by root, read-only to the node user the processes run as: a compromised process cannot
# rewrite the code it runs (docker-compose.yml also mounts the root filesystem read-only).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
