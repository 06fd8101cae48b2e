package io.pgbackfill.embedded;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Says once per process, at INFO, which infrastructure the tests or the demo run on. */
final class InfrastructureLog {
    private static final Logger LOG = LoggerFactory.getLogger(Infrastructure.class);
    private static final AtomicBoolean SAID = new AtomicBoolean();

    private InfrastructureLog() {
    }

    static void chosen(String what) {
        if (SAID.compareAndSet(false, true)) {
            LOG.info("infrastructure: {}", what);
        }
    }
}
