package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a real Kafka broker and a real redis-server: {@code @ExtendWith(LocalStackExtension.class)},
 * then take a {@link LocalStack} or {@link StackEndpoints} as a constructor, lifecycle or test
 * method parameter. The stack starts once per test JVM (the first class that asks) and stops when
 * the run ends. Tests share it: use topic names, consumer groups and Redis key prefixes of your own.
 */
public final class LocalStackExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalStackExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        stack(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == LocalStack.class || type == StackEndpoints.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        LocalStack stack = stack(context);
        return parameter.getParameter().getType() == LocalStack.class ? stack : stack.endpoints();
    }

    private static LocalStack stack(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(RunningStack.class, k -> RunningStack.start(), RunningStack.class)
                .stack;
    }

    /** Closed by JUnit when the root context (the whole run) ends. */
    private static final class RunningStack implements ExtensionContext.Store.CloseableResource {
        private final LocalStack stack;
        private final Path workDir;

        private RunningStack(LocalStack stack, Path workDir) {
            this.stack = stack;
            this.workDir = workDir;
        }

        static RunningStack start() {
            try {
                Path workDir = Files.createTempDirectory("ctr-test-stack");
                return new RunningStack(LocalStack.start(StackOptions.builder().workDir(workDir).build()), workDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                stack.close();
            } finally {
                WorkDirs.deleteRecursively(workDir);
            }
        }
    }
}
