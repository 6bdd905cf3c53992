# istio-playground in a container: `docker compose up` (docker-compose.yml) runs it against the
# embedded cluster, kind (through the host's Docker socket) or any kubeconfig.
#
# Build stage: npm ci + npm run build (the client and the server bundle, native addons compiled).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
# postinstall's kubectl download is not needed here (the runtime stage installs a pinned one).
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 # Runtime needs the production dependencies, plus esbuild: it builds the offline Istio release's istioctl on first download.
 && cp -a node_modules/esbuild /tmp/esbuild && cp -a node_modules/@esbuild /tmp/@esbuild \
 && npm prune --omit=dev --no-audit --no-fund \
 && cp -a /tmp/esbuild node_modules/esbuild && mkdir -p node_modules/@esbuild && cp -a /tmp/@esbuild/. node_modules/@esbuild/

# Runtime stage: Debian slim with what learner shells and the kind backend need.
FROM node:20-bookworm-slim
# Pinned tool versions; each download is verified against the sha256 its project publishes beside it
# (and against KUBECTL_SHA256 / KIND_SHA256 when given as build arguments).
ARG KUBECTL_VERSION=v1.32.2
ARG KIND_VERSION=v0.27.0
ARG KUBECTL_SHA256=
ARG KIND_SHA256=
# bubblewrap + util-linux (setpriv, prlimit): the learner sandbox. bash, curl, procps, less: learners'
# shells and the lessons. docker.io: only its `docker` command, which kind drives (the engine is the host's).
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux bash curl ca-certificates procps less docker.io tini \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    arch="$(dpkg --print-architecture)"; \
    verify() { got="$(sha256sum "$1" | cut -d' ' -f1)"; [ "$got" = "$2" ] || { echo "checksum mismatch for $1: expected $2, got $got" >&2; exit 1; }; }; \
    curl -fsSL --retry 3 -o /tmp/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl"; \
    published="$(curl -fsSL --retry 3 "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl.sha256" | cut -d' ' -f1)"; \
    verify /tmp/kubectl "$published"; \
    if [ -n "$KUBECTL_SHA256" ]; then verify /tmp/kubectl "$KUBECTL_SHA256"; fi; \
    install -m 0755 /tmp/kubectl /usr/local/bin/kubectl; \
    curl -fsSL --retry 3 -o /tmp/kind "https://kind.sigs.k8s.io/dl/${KIND_VERSION}/kind-linux-${arch}"; \
    published="$(curl -fsSL --retry 3 "https://kind.sigs.k8s.io/dl/${KIND_VERSION}/kind-linux-${arch}.sha256sum" | cut -d' ' -f1)"; \
    verify /tmp/kind "$published"; \
    if [ -n "$KIND_SHA256" ]; then verify /tmp/kind "$KIND_SHA256"; fi; \
    install -m 0755 /tmp/kind /usr/local/bin/kind; \
    rm -f /tmp/kubectl /tmp/kind; \
    kubectl version --client; kind version

# Non-root: learner shells then run in bubblewrap with user namespaces (docker-compose.yml allows them).
RUN groupadd --system playground && useradd --system --gid playground --create-home --home-dir /home/playground playground \
 && mkdir -p /data && chown playground:playground /data
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json /app/package-lock.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/lessons ./lessons
COPY --from=build --chown=root:root /app/scripts ./scripts

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    PLAYGROUND_DATA_DIR=/data \
    GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072
VOLUME ["/data"]
EXPOSE 8080
USER playground
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
# tini reaps the learners' shells' orphans; main.js prints "Open http://…/?token=…" at start.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1", "dist/server/main.js"]
