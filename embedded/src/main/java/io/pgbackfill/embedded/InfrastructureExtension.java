package io.pgbackfill.embedded;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts the infrastructure of a test class once, before its {@code @BeforeAll} methods, and closes it after its
 * {@code @AfterAll} methods: the static fields annotated {@link Started} get an {@link EmbeddedInfrastructure}
 * (field of that type: always embedded) or an {@link Infrastructure} (containers when Docker is reachable).
 * <pre>
 * &#64;ExtendWith(InfrastructureExtension.class)
 * class FooIT {
 *     &#64;InfrastructureExtension.Started
 *     static EmbeddedInfrastructure infra;
 * </pre>
 */
public final class InfrastructureExtension implements BeforeAllCallback, AfterAllCallback {
    /** A static field the extension fills before the class's tests and closes after them. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Started {
    }

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(InfrastructureExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Deque<Infrastructure> started = new ArrayDeque<>();
        context.getStore(NAMESPACE).put(context.getRequiredTestClass(), started);
        for (Field f : context.getRequiredTestClass().getDeclaredFields()) {
            if (!f.isAnnotationPresent(Started.class)) {
                continue;
            }
            if (!Modifier.isStatic(f.getModifiers())) {
                throw new IllegalStateException(f + ": @Started fields are static (one infrastructure per test class)");
            }
            Infrastructure infra = f.getType() == EmbeddedInfrastructure.class ? EmbeddedInfrastructure.start() : Infrastructure.start();
            started.push(infra);
            f.setAccessible(true);
            f.set(null, infra);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) throws Exception {
        Deque<Infrastructure> started = (Deque<Infrastructure>) context.getStore(NAMESPACE).remove(context.getRequiredTestClass());
        Exception first = null;
        while (started != null && !started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
