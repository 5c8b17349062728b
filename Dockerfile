# syntax=docker/dockerfile:1
# One image, two entry points: `juraft` (the node) and `juraft-operator` (the Kubernetes operator).
#
#   docker build -t juraft:0.1.0 .
#   kind load docker-image juraft:0.1.0        # or: minikube image load juraft:0.1.0
#
# The TypeScript sources run through tsx (a runtime dependency), as `node/cli/juraft.mjs` does, so
# there is no compile stage: the build stage only installs production dependencies, including the
# native RocksDB binding (prebuilt for linux-x64; compiled with the toolchain below elsewhere).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `npm ci` installs exactly the lockfile. Against registry.npmjs.org this works on any platform.
# NOTE: it fails on the development machine this repository was written on, whose registry mirror
# lacks the optional platform binaries of other platforms that the lockfile lists; that is a
# property of that mirror, not of this build. Do not replace `npm ci` with `npm install` here.
RUN npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="juraft" \
      org.opencontainers.image.description="Raft-replicated document store for Juju mgo/txn transactions, and its Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# A fixed non-root user (the operator's StatefulSet and Deployment run as 10001:10001).
RUN groupadd --gid 10001 juraft \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin juraft \
 && mkdir -p /data \
 && chown 10001:10001 /data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY proto/gen ./proto/gen
COPY node ./node
COPY operator ./operator
# Entry points on PATH. Nothing under /app is written at run time, so the root filesystem can be
# read-only; tsx keeps its transform cache under $TMPDIR (/tmp, an emptyDir in Kubernetes).
RUN ln -s /app/node/cli/juraft.mjs /usr/local/bin/juraft \
 && ln -s /app/operator/cli/juraft-operator.mjs /usr/local/bin/juraft-operator \
 && chmod 0755 /app/node/cli/juraft.mjs /app/operator/cli/juraft-operator.mjs
USER 10001:10001
VOLUME ["/data"]
EXPOSE 7070
ENTRYPOINT ["juraft"]
CMD ["serve", "--data-dir=/data", "--listen=0.0.0.0:7070"]
