package io.pgbackfill.core.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/**
 * A migration, as written in one YAML file. Everything the producer, transformer, sink and the
 * operator commands need is derived from it; names of slots, publications, topics and consumer
 * groups come from {@link #name}, so two pipelines never share state by accident.
 *
 * <pre>
 * name: users-split                  # required; [a-z0-9_-], used in slot/topic/group names
 * source:   {jdbcUrl (TLS etc. as URL parameters), user, passwordEnv | passwordFile}
 * target:   same keys; omitted = the source database
 * kafka:    {bootstrapServers, topicPrefix, partitions, properties: {client property: value | {env: VAR} | {file: PATH}}}
 * snapshot: {mode: chunked (default) | initial | incremental | none, chunkSize}
 * sink:     {batchSize, lingerMs, copyThreshold, truncate}
 * tables:   [{source, target, key, filter, columns: {target_column: expression}, mapper,
 *             reverse: {old_column: expression over the new row}}]
 * cutover:  {oldSuffix, lockTimeoutMs, attempts, switchCommand}
 * memory:   {stageBudgetMiB}
 * throttle: {intervalMs, replicaLagMs, slotRetainedMiB, query, critical: {...}, rowsPerSecond} (see ThrottleSpec)
 * hooks:    {startup, snapshotDone, beforeCutover, afterCutover, failure, timeoutSeconds} (see HooksSpec)
 * </pre>
 * Every section key with its type, default, unit and valid values: {@link SpecOptions}, and generated from it,
 * docs/spec-reference.md.
 */
public record PipelineSpec(
        @JsonProperty(required = true) SpecText name,
        @JsonProperty(required = true) ConnectionSpec source,
        ConnectionSpec target,
        KafkaSpec kafka,
        SnapshotSpec snapshot,
        SinkSpec sink,
        @JsonProperty(required = true) List<TableSpec> tables,
        CutoverSpec cutover,
        MemorySpec memory,
        ThrottleSpec throttle,
        HooksSpec hooks) {

    public PipelineSpec {
        source = source == null ? null : source.as("source");
        target = target == null ? null : target.as("target");
        kafka = kafka == null ? KafkaSpec.DEFAULT : kafka;
        snapshot = snapshot == null ? SnapshotSpec.DEFAULT : snapshot;
        sink = sink == null ? SinkSpec.DEFAULT : sink;
        cutover = cutover == null ? CutoverSpec.DEFAULT : cutover;
        memory = memory == null ? MemorySpec.DEFAULT : memory;
        throttle = throttle == null ? ThrottleSpec.DEFAULT : throttle;
        hooks = hooks == null ? HooksSpec.DEFAULT : hooks;
        tables = tables == null ? List.of() : List.copyOf(tables);
    }

    public PipelineSpec(SpecText name, ConnectionSpec source, ConnectionSpec target, KafkaSpec kafka, SnapshotSpec snapshot,
                        SinkSpec sink, List<TableSpec> tables, CutoverSpec cutover) {
        this(name, source, target, kafka, snapshot, sink, tables, cutover, null, null, null);
    }

    /** The target connection; a spec without one migrates inside the source database. */
    public ConnectionSpec targetOrSource() {
        return target == null ? source : target;
    }

    public boolean sameDatabase() {
        return target == null || Objects.equals(target.jdbcUrl(), source.jdbcUrl());
    }

    public String pipelineName() {
        return name.text();
    }

    /** Underscored name, valid in slot and publication names. */
    public String slotName() {
        return "pgbackfill_" + pipelineName().replace('-', '_');
    }

    public String topicPrefix() {
        return kafka.topicPrefix() != null ? kafka.topicPrefix() : "pgbackfill." + pipelineName();
    }

    public String rawTopic(TableSpec t) {
        return topicPrefix() + ".raw." + t.sourceName().id();
    }

    public String rowsTopic(TableSpec t) {
        return topicPrefix() + ".rows." + t.targetName().id();
    }

    public String dlqTopic(TableSpec t) {
        return topicPrefix() + ".dlq." + t.targetName().id();
    }

    /**
     * Re-read requests ({@link io.pgbackfill.core.event.RereadRequest}) from the sink to the producer: changes that
     * did not carry their unchanged TOAST values, for rows the target cannot complete. One partition.
     */
    public String rereadTopic() {
        return topicPrefix() + ".reread";
    }

    /** The producer's consumer group on {@link #rereadTopic()}: its committed offset is what was handed to the source. */
    public String rereadGroupId() {
        return "pgbackfill-" + pipelineName() + "-reread";
    }

    public String transformerApplicationId() {
        return "pgbackfill-" + pipelineName() + "-transformer";
    }

    /**
     * Runtime control ({@link io.pgbackfill.core.control.ControlTopic}): pause, rate limit, chunk size, cutover hold,
     * and the producer's throttle report; compacted, one partition, read by every stage.
     */
    public String controlTopic() {
        return topicPrefix() + ".control";
    }

    public String sinkGroupId() {
        return "pgbackfill-" + pipelineName() + "-sink";
    }

    public PipelineSpec withSnapshot(SnapshotSpec s) {
        return new PipelineSpec(name, source, target, kafka, s, sink, tables, cutover, memory, throttle, hooks);
    }

    public PipelineSpec withKafka(KafkaSpec k) {
        return new PipelineSpec(name, source, target, k, snapshot, sink, tables, cutover, memory, throttle, hooks);
    }

    public PipelineSpec withConnections(ConnectionSpec s, ConnectionSpec t) {
        return new PipelineSpec(name, s, t, kafka, snapshot, sink, tables, cutover, memory, throttle, hooks);
    }

    public PipelineSpec withSink(SinkSpec s) {
        return new PipelineSpec(name, source, target, kafka, snapshot, s, tables, cutover, memory, throttle, hooks);
    }
}
