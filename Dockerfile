# syntax=docker/dockerfile:1.7
# One image for every pgbackfill service; the command picks what it runs:
#   docker run --rm pgbackfill:0.1.0-SNAPSHOT producer|transformer|sink|up|preflight|status|verify ... /specs/SPEC.yaml
# Built by `docker compose build` (docker-compose.yml) or `docker build -t pgbackfill:0.1.0-SNAPSHOT .`

# --- build: the whole reactor, then the CLI module's runtime classpath as plain jars -------------------------
# Only ops/cli's runtime: no embedded PostgreSQL, Testcontainers, JUnit, Hibernate, JDBC sink or Kafka broker
# (those are ops/tools: demo and bench, run from a checkout with ./backfill).
FROM maven:3.9.11-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY core core
COPY embedded embedded
COPY producer producer
COPY transformer transformer
COPY sink sink
COPY ops ops
# The cache mount keeps the local Maven repository between builds; the jars the image needs are copied out of it.
# prependGroupId: two artifacts with the same name from different groups must not overwrite each other.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -DskipTests install \
 && mvn -B -ntp -pl ops/cli dependency:copy-dependencies -DincludeScope=runtime -Dmdep.prependGroupId=true -DoutputDirectory=/app/lib \
 && cp ops/cli/target/pgbackfill-cli-*.jar /app/lib/

# --- runtime: a JRE, the jars, an unprivileged user ----------------------------------------------------------
FROM eclipse-temurin:17.0.16_8-jre
# curl: the compose health checks call /health with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/pgbackfill --create-home pgbackfill
COPY --from=build /app/lib /app/lib
# GC and JIT flags, the same file ./backfill and the bench use (ops/jvm.options).
COPY ops/jvm.options /app/jvm.options
# `docker compose exec producer backfill status /specs/users-split.yaml` and friends.
RUN printf '#!/bin/sh\nexec java @/app/jvm.options -cp "/app/lib/*" io.pgbackfill.ops.BackfillCli "$@"\n' > /usr/local/bin/backfill \
 && chmod 755 /usr/local/bin/backfill
USER pgbackfill
# State (the producer's offsets, Kafka Streams' state.dir) defaults to .pgbackfill under here; mount a volume to keep it.
WORKDIR /var/lib/pgbackfill
# /metrics and /health (--metrics-port, env PGBACKFILL_METRICS_PORT).
EXPOSE 9404
# Exec form: java is PID 1 and gets SIGTERM itself, so a stage stops cleanly (last batch, offsets) on docker stop.
# Out of memory ends the process (exit 3, so the restart policy sees it) after saying what to change; the heap comes
# from JAVA_TOOL_OPTIONS (docker-compose.yml), the byte budgets derive from it (memory.stageBudgetMiB overrides).
ENTRYPOINT ["java", "@/app/jvm.options", "-XX:OnOutOfMemoryError=echo 'pgbackfill: out of memory: raise the heap (-Xmx in JAVA_TOOL_OPTIONS) or lower memory.stageBudgetMiB in the spec (backfill rehearse predicts the peak)' >&2", "-cp", "/app/lib/*", "io.pgbackfill.ops.BackfillCli"]
CMD ["--help"]
