# One image for the operator and the enforcer: `riskgate operator …` and `riskgate enforce …`.
# TypeScript runs on Node 24's type stripping; there is no build step to get wrong.

FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only: the `node` devDependency (the toolchain for development) stays out.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY api ./api
COPY cli ./cli
COPY enforcer ./enforcer
COPY operator ./operator
# Compile the ASN table once, at build time: the root filesystem is read-only at run time.
ENV RISKGATE_CACHE_DIR=/app/cache
RUN node -e "import('/app/enforcer/geo/geo-lookup.ts').then((g) => g.asnDatabase(undefined, '.'))"

FROM node:24.11.1-bookworm-slim
LABEL org.opencontainers.image.title="riskgate" \
      org.opencontainers.image.description="Risk-based access control for APIs on Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    RISKGATE_CACHE_DIR=/app/cache
WORKDIR /app
COPY --from=build --chown=65532:65532 /app /app
# GeoIP and ASN data ship inside node_modules (@ip-location-db/*); mount licensed GeoIP2 files
# and point spec.signals.geoip.cityDatabase / asnDatabase at them to use your own.
USER 65532:65532
EXPOSE 15080 15090 15091 9443
ENTRYPOINT ["node", "/app/cli/main.ts"]
CMD ["--help"]
