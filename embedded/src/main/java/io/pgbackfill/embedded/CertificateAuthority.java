package io.pgbackfill.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway certificate authority for tests, made with the machine's {@code openssl}: a CA certificate and a
 * server certificate for {@code localhost} (DNS localhost, IP 127.0.0.1 and ::1) that it signed. PostgreSQL reads
 * the PEM files directly; Kafka reads a PEM key store ({@link #serverKeyStore()}); Java clients get a PKCS12
 * trust store made by the JDK's {@code keytool}.
 */
public final class CertificateAuthority {
    private final Path dir;

    private CertificateAuthority(Path dir) {
        this.dir = dir;
    }

    /** A new CA named {@code name}, with a server certificate for localhost, in a new directory. */
    public static CertificateAuthority create(String name) throws IOException {
        Path dir = Files.createTempDirectory("pgbackfill-ca-" + name);
        CertificateAuthority ca = new CertificateAuthority(dir);
        ca.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=pgbackfill test CA " + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        ca.openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n"
                + "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        ca.openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
                "-days", "2", "-extfile", "server.ext");
        // PostgreSQL refuses a private key that others can read.
        Files.setPosixFilePermissions(dir.resolve("server.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("server.pem"), Files.readString(dir.resolve("server.key")) + Files.readString(dir.resolve("server.crt")));
        return ca;
    }

    /** The CA certificate (PEM): what a client trusts. */
    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    public Path serverCertificate() {
        return dir.resolve("server.crt");
    }

    /** The server's private key (PEM, PKCS#8, unencrypted, mode 0600). */
    public Path serverKey() {
        return dir.resolve("server.key");
    }

    /** Key and certificate in one PEM file: a Kafka {@code ssl.keystore.type=PEM} key store. */
    public Path serverKeyStore() {
        return dir.resolve("server.pem");
    }

    /** A PKCS12 trust store holding the CA certificate, protected by {@code password}. */
    public Path trustStore(String password) throws IOException {
        Path store = dir.resolve("truststore.p12");
        Files.deleteIfExists(store);
        run(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt", "-alias", "ca",
                "-file", caCertificate().toString(), "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass:env", "PGBACKFILL_STOREPASS"),
                password);
        return store;
    }

    public void delete() throws IOException {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void openssl(String... args) throws IOException {
        List<String> c = new ArrayList<>();
        c.add("openssl");
        c.addAll(List.of(args));
        run(c, null);
    }

    private void run(List<String> command, String storePassword) throws IOException {
        // The password goes through the environment, never the command line (visible in ps).
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        if (storePassword != null) {
            pb.environment().put("PGBACKFILL_STOREPASS", storePassword);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                throw new IOException(command.get(0) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
