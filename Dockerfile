# syntax=docker/dockerfile:1
# vestibule: build with all dependencies, run with production dependencies only, as a non-root
# user, on a read-only root filesystem (nothing is written at run time).

# Build: compile TypeScript (src/ only: tests and the mock IdP stay out of the image) to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies, without install scripts.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

# Runtime: files stay owned by root, so the app user cannot change them.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
# 7564 proxy, 7565 admin (probes, metrics), 7164 token API (bound to loopback).
EXPOSE 7564 7565 7164
# Slim images have no curl: node's own fetch probes the admin listener.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7565/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8's young generation capped at 2 × 8 MB (default 2 × 16 MB), and the old generation allowed 1.5× its live size
# before a full collection (V8 picks up to 4× on its own): the peak under load stays under 128 MB up to 256
# connections instead of ~200 MB, at no CPU cost the full benchmark can tell apart at steady load
# (docs/benchmarks.md, "The image's V8 flags"). Plain V8 flags, present from Node 20 to 24. The benchmark reads
# the flags from this line.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/src/main.js"]
