#!/usr/bin/env bash
# Describes a pipeline's consumer groups with Kafka's own tool (kafka-consumer-groups.sh --describe):
# the transformer (its Kafka Streams application.id) and the sink. Same numbers as `backfill status`.
# Usage: ops/scripts/consumer-groups.sh SPEC [extra kafka-consumer-groups options]
# Uses kafka-consumer-groups.sh from PATH if there is one, else the same tool class from the checkout's classpath
# (ops/tools, built by ./backfill: the image does not carry Kafka's tools).
# The spec's kafka.properties (SASL, TLS) reach the tool through --command-config: a file only this user can
# read, in a temporary directory removed on exit.
set -euo pipefail
spec="${1:?usage: consumer-groups.sh SPEC}"; shift || true
here="$(cd "$(dirname "$0")/../.." && pwd)"
names="$("$here/backfill" spec names "$spec")"
get() { printf '%s\n' "$names" | sed -n "s/^$1=//p" | head -1; }
bootstrap="$(get bootstrap_servers)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$here/backfill" spec kafka-config "$spec" --output "$tmp/client.properties"
for group in "$(get transformer_group)" "$(get sink_group)"; do
  echo "== $group"
  if command -v kafka-consumer-groups.sh >/dev/null 2>&1; then
    kafka-consumer-groups.sh --bootstrap-server "$bootstrap" --command-config "$tmp/client.properties" --describe --group "$group" "$@"
  else
    java -cp "$here/ops/tools/target/pgbackfill-tools-0.1.0-SNAPSHOT.jar:$(cat "$here/ops/tools/target/classpath.txt")" \
      org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$bootstrap" \
      --command-config "$tmp/client.properties" --describe --group "$group" "$@"
  fi
done
