# Larder's image: one image for `larder serve` (the default command), `larder stream` and
# `larder scheduler`. Multi-stage: production dependencies are installed in a build stage
# (`npm ci --omit=dev`); the final stage runs as the unprivileged user `larder`.
#
#   podman build -t larder .          # or: docker build -t larder .
#   podman run -p 8566:8566 -v larder-data:/data larder
#   podman run larder stream          # the stream worker (KAFKA_BROKERS, LARDER_ONLINE_STORE…)
#
# BASE: a Debian bookworm image with Node 20 and npm. The default is the official slim image;
# the test suite (test/ops/container.services.test.ts) builds one locally from Debian's packages
# (debootstrap) and this machine's Node, since no image registry is reachable there.
# deploy/container/prebuilds/ may hold native prebuilds for offline builds (better-sqlite3's
# `npm_config_better_sqlite3_local_prebuilds`); empty, npm downloads them as usual.
ARG BASE=docker.io/library/node:20-bookworm-slim

FROM ${BASE} AS deps
# npm's cache and offline preference, for builds that mount a warm cache (the test does).
ARG npm_config_cache=/root/.npm
ARG npm_config_prefer_offline=false
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY deploy/container/prebuilds/ /prebuilds/
ENV npm_config_better_sqlite3_local_prebuilds=/prebuilds
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf /root/.npm

FROM ${BASE}
WORKDIR /app
RUN groupadd --system larder \
  && useradd --system --gid larder --home-dir /data --no-create-home larder \
  && mkdir -p /data && chown larder:larder /data
COPY --from=deps /app/node_modules ./node_modules
COPY . .
ENV NODE_ENV=production LARDER_HOME=/data LARDER_DATA_DIR=/data/raw
USER larder
EXPOSE 8566 6570
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8566/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/larder.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8566"]
