package io.pgbackfill.embedded;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real Kafka 4 broker in KRaft mode (combined broker + controller), in this JVM. Internal topics
 * get replication factor 1: with the default 3, a one-broker cluster never forms consumer groups
 * and transactions fail (see shared/STACK.md).
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    private final KafkaClusterTestKit cluster;

    private EmbeddedKafkaBroker(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    public static EmbeddedKafkaBroker start() throws Exception {
        KafkaClusterTestKit cluster = builder().build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return new EmbeddedKafkaBroker(cluster);
    }

    /**
     * A broker whose client listener is SASL_SSL with SCRAM-SHA-512 (TLS certificate from {@code ca}), with one SCRAM
     * user {@code user}/{@code password}. The test kit itself only offers PLAINTEXT and SASL_PLAINTEXT listeners, so the
     * listener's protocol is set through its configuration; the broker talks to itself (transaction markers) over the
     * same listener with PLAIN and a generated admin password, and that admin creates the SCRAM user once it is up.
     */
    public static EmbeddedKafkaBroker startSaslSsl(CertificateAuthority ca, String user, String password) throws Exception {
        String admin = java.util.UUID.randomUUID().toString();
        String plain = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"" + admin
                + "\" user_admin=\"" + admin + "\";";
        KafkaClusterTestKit cluster = builder()
                .setConfigProp("listener.security.protocol.map", "EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT")
                .setConfigProp("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512")
                .setConfigProp("sasl.mechanism.inter.broker.protocol", "PLAIN")
                .setConfigProp("listener.name.external.plain.sasl.jaas.config", plain)
                .setConfigProp("listener.name.external.scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;")
                .setConfigProp("ssl.keystore.type", "PEM")
                .setConfigProp("ssl.keystore.location", ca.serverKeyStore().toString())
                .setConfigProp("ssl.truststore.type", "PEM")
                .setConfigProp("ssl.truststore.location", ca.caCertificate().toString())
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "PLAIN");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"" + admin + "\";");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca.caCertificate().toString());
        try (var a = org.apache.kafka.clients.admin.Admin.create(p)) {
            a.alterUserScramCredentials(java.util.List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(user,
                    new org.apache.kafka.clients.admin.ScramCredentialInfo(org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 8192), password)))
                    .all().get();
            // The broker learns the new credential from the metadata log a moment later: wait until it is accepted.
            p.put("sasl.mechanism", "SCRAM-SHA-512");
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\"" + password + "\";");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try (var check = org.apache.kafka.clients.admin.Admin.create(p)) {
                    check.describeCluster().clusterId().get(10, java.util.concurrent.TimeUnit.SECONDS);
                    break;
                } catch (java.util.concurrent.ExecutionException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw notYet;
                    }
                    Thread.sleep(100);
                }
            }
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return new EmbeddedKafkaBroker(cluster);
    }

    private static KafkaClusterTestKit.Builder builder() {
        return new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "4")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "4")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("auto.create.topics.enable", "false")
                .setConfigProp("num.partitions", "4")
                .setConfigProp("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
