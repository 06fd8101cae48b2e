package io.pgbackfill.ops.commands;

import io.pgbackfill.core.state.SinkState;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.producer.SourceSetup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "teardown", mixinStandardHelpOptions = true,
        description = {"Removes what the pipeline created on the source.",
                "That is the replication slot (so it stops retaining WAL), the publication, the signal table and heartbeat row; with --kafka also its topics and consumer groups; with",
                "--state-dir the local state. Says what it removed. Idempotent. Stop the pipeline first (or use --force)."})
public final class TeardownCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--kafka", description = "also delete the pipeline's topics and consumer groups")
    boolean kafka;

    @Option(names = "--state-dir", description = "also delete this local state directory")
    Path stateDir;

    @Option(names = "--force", description = "terminate the walsender if the slot is still in use")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PipelineSpec s = spec.spec();
        List<String> removed = new ArrayList<>();
        boolean incomplete = false;
        try (Connection c = s.source().open()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, s.slotName());
                ResultSet rs = ps.executeQuery();
                if (rs.next()) {
                    int pid = rs.getInt(1);
                    if (!rs.wasNull()) {
                        if (!force) {
                            System.err.println("slot " + s.slotName() + " is in use by pid " + pid + ": stop the producer, or pass --force");
                            return ExitCode.PROBLEM;
                        }
                        try (PreparedStatement k = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
                            k.setInt(1, pid);
                            k.execute();
                        }
                        Thread.sleep(500);
                    }
                    try (PreparedStatement d = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                        d.setString(1, s.slotName());
                        d.execute();
                    }
                    removed.add("replication slot " + s.slotName());
                }
            }
            try (Statement st = c.createStatement()) {
                if (st.executeQuery("SELECT 1 FROM pg_publication WHERE pubname = '" + SourceSetup.publication(s) + "'").next()) {
                    st.execute("DROP PUBLICATION " + SqlIdentifier.of(SourceSetup.publication(s)).quoted());
                    removed.add("publication " + SourceSetup.publication(s));
                }
                if (st.executeQuery("SELECT 1 FROM pg_class WHERE oid = to_regclass('" + SourceSetup.SCHEMA + "." + SourceSetup.signalTable(s) + "')").next()) {
                    st.execute("DROP TABLE " + SourceSetup.SCHEMA + "." + SqlIdentifier.of(SourceSetup.signalTable(s)).quoted());
                    removed.add("signal table " + SourceSetup.SCHEMA + "." + SourceSetup.signalTable(s));
                }
                if (st.executeQuery("SELECT 1 FROM pg_class WHERE oid = to_regclass('" + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE + "')").next()) {
                    for (String row : List.of(s.pipelineName(), SourceSetup.windowMarkRow(s))) {
                        try (PreparedStatement d = c.prepareStatement("DELETE FROM " + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE + " WHERE pipeline = ?")) {
                            d.setString(1, row);
                            if (d.executeUpdate() > 0) {
                                removed.add("heartbeat row " + row);
                            }
                        }
                    }
                }
            }
        }
        try (Connection c = s.targetOrSource().open()) {
            removed.addAll(SinkState.remove(c, s.pipelineName()));
        }
        if (kafka) {
            try (Admin admin = KafkaTopics.admin(s.kafka())) {
                List<String> topics = new ArrayList<>();
                for (TableSpec t : s.tables()) {
                    topics.addAll(List.of(s.rawTopic(t), s.rowsTopic(t), s.dlqTopic(t)));
                }
                topics.add(s.rereadTopic());
                topics.add(s.controlTopic());
                var existing = admin.listTopics().names().get();
                List<String> present = topics.stream().filter(existing::contains).toList();
                if (!present.isEmpty()) {
                    admin.deleteTopics(present).all().get();
                    removed.add("topics " + present);
                }
                var groups = admin.listGroups().all().get().stream().map(g -> g.groupId()).toList();
                List<String> ours = List.of(s.transformerApplicationId(), s.sinkGroupId(), s.rereadGroupId()).stream().filter(groups::contains).toList();
                for (String g : ours) {
                    try {
                        admin.deleteConsumerGroups(List.of(g)).all().get();
                        removed.add("consumer group " + g);
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (!(e.getCause() instanceof org.apache.kafka.common.errors.GroupNotEmptyException)) {
                            throw e;
                        }
                        System.err.println("consumer group " + g + " still has members: stop its services, then run teardown again");
                        incomplete = true;
                    }
                }
            }
        }
        if (stateDir != null && Files.exists(stateDir)) {
            try (var walk = Files.walk(stateDir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            removed.add("state dir " + stateDir);
        }
        System.out.println(removed.isEmpty() ? "nothing to remove: already torn down" : "removed:\n  " + String.join("\n  ", removed));
        return incomplete ? ExitCode.PROBLEM : ExitCode.OK;
    }
}
