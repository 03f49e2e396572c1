package org.ctrranker.localenv;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ctrranker.localenv.flink.ParentWatchingMain;

/**
 * A real Flink session cluster of separate JVMs on loopback: one JobManager and N TaskManagers, started
 * the way Flink's own scripts start them (BashJavaUtils' memory parameters, Java 17's module options, the
 * entry point classes) from the Maven jars of local-env/flink-runtime, which is the job image's lib/:
 * Flink plus DJL, loaded parent-first. Jobs are submitted with Flink's CLI front end; state and
 * cancellation go through the REST API. Every process dies with the JVM that started the cluster.
 */
public final class FlinkProcessCluster implements AutoCloseable {

    private static final String CLASSPATH_RESOURCE = "META-INF/ctr/flink-runtime.classpath";
    private static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String CLI_MAIN = "org.apache.flink.client.cli.CliFrontend";
    private static final String RESOURCE_PARAMS_MAIN = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String RESOURCE_PARAMS_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Duration REST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SUBMIT_TIMEOUT = Duration.ofMinutes(2);
    /** Log lines a timed-out wait's diagnosis keeps: warnings, errors, task state changes and restarts. */
    private static final Pattern NOTABLE = Pattern.compile(
            " (WARN|ERROR) |switched from|Exception|Error|OutOfMemory|Terminating|Restarting|restart|Cancel");
    private static final Pattern ROUTINE = Pattern.compile("Name collision|maxAllowedWatermark");
    private static final Pattern FATAL = Pattern.compile("FATAL|Fatal error|OutOfMemory");

    /**
     * A local cluster lives for a minute or two and processes little: the C2 compiler would cost more CPU than it
     * saves, and on a small shared machine that CPU is what the test waits for.
     */
    private static final List<String> LOCAL_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1");

    /**
     * Java 17's module options, as the stock config.yaml of Flink 2.2 has them in env.java.opts.all: the cluster's
     * default for that key, so a configuration that sets the key (as the FlinkDeployment does) must carry them.
     */
    public static final List<String> JAVA17_OPTIONS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private final Path workDir;
    private final Path confDir;
    private final Map<String, String> configuration;
    private final String classpath;
    private final String restUrl;
    private final ManagedProcess jobManager;
    private final ResourceParams taskManagerParams;
    private final Map<String, ManagedProcess> taskManagers = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REST_TIMEOUT).build();
    private final ObjectMapper json = new ObjectMapper();
    private int taskManagersStarted;

    private FlinkProcessCluster(Path workDir, Map<String, String> configuration, String classpath,
            ManagedProcess jobManager, ResourceParams taskManagerParams) {
        this.workDir = workDir;
        this.confDir = workDir.resolve("conf");
        this.configuration = configuration;
        this.classpath = classpath;
        this.restUrl = "http://127.0.0.1:" + configuration.get("rest.port");
        this.jobManager = jobManager;
        this.taskManagerParams = taskManagerParams;
    }

    /**
     * Starts the JobManager and the TaskManagers without waiting for them: call {@link #awaitReady} before
     * submitting, so that the JVMs start while the caller prepares its input.
     */
    public static FlinkProcessCluster start(FlinkClusterOptions options) {
        Path workDir = options.workDir();
        Map<String, String> configuration = configuration(options);
        try {
            for (String dir : List.of("conf", "log", "tmp")) {
                Files.createDirectories(workDir.resolve(dir));
            }
            StringBuilder yaml = new StringBuilder("# written by FlinkProcessCluster\n");
            configuration.forEach((key, value) -> yaml.append(key).append(": ").append(value).append('\n'));
            Files.writeString(workDir.resolve("conf/config.yaml"), yaml);
            Files.writeString(workDir.resolve("conf/log4j.properties"), log4jProperties());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the Flink cluster in " + workDir, e);
        }
        String classpath = classpath();
        CompletableFuture<ResourceParams> jobManagerParams =
                CompletableFuture.supplyAsync(() -> ResourceParams.compute(workDir, classpath, "GET_JM_RESOURCE_PARAMS"));
        ResourceParams taskManagerParams = ResourceParams.compute(workDir, classpath, "GET_TM_RESOURCE_PARAMS");
        ManagedProcess jobManager = startFlinkProcess(workDir, configuration, classpath, "jobmanager",
                JOB_MANAGER_MAIN, jobManagerParams.join(), List.of());
        FlinkProcessCluster cluster = new FlinkProcessCluster(workDir, configuration, classpath, jobManager, taskManagerParams);
        try {
            for (int i = 0; i < options.taskManagers(); i++) {
                cluster.startTaskManager();
            }
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** The cluster's config.yaml: loopback addresses on free ports, the image's DJL settings, then the caller's. */
    private static Map<String, String> configuration(FlinkClusterOptions options) {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("jobmanager.rpc.address", "127.0.0.1");
        conf.put("jobmanager.rpc.port", Integer.toString(FreePorts.next()));
        conf.put("jobmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.host", "127.0.0.1");
        conf.put("rest.address", "127.0.0.1");
        conf.put("rest.bind-address", "127.0.0.1");
        conf.put("rest.port", Integer.toString(FreePorts.next()));
        conf.put("jobmanager.memory.process.size", "1g");
        conf.put("taskmanager.memory.process.size", "1280m");
        conf.put("taskmanager.memory.managed.fraction", "0.25");
        conf.put("taskmanager.numberOfTaskSlots", Integer.toString(options.slotsPerTaskManager()));
        conf.put("io.tmp.dirs", options.workDir().resolve("tmp").toString());
        // A killed TaskManager is noticed within seconds through failing heartbeat RPCs (two by default), while a
        // TaskManager that a loaded machine starves of CPU for a while is not declared dead.
        conf.put("heartbeat.interval", "1000");
        conf.put("heartbeat.timeout", "30000");
        // As the image (k8s/image/Dockerfile): DJL from lib/, parent-first, offline, one PyTorch thread each.
        conf.put("classloader.parent-first-patterns.additional", "[\"ai.djl.\"]");
        conf.put("env.java.opts.all", String.join(" ", JAVA17_OPTIONS));
        conf.put("env.java.opts.jobmanager", "-Dai.djl.offline=true");
        conf.put("env.java.opts.taskmanager",
                "-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1");
        conf.putAll(options.configuration());
        return conf;
    }

    private static ManagedProcess startFlinkProcess(Path workDir, Map<String, String> configuration, String classpath,
            String name, String mainClass, ResourceParams params, List<String> extraDynamicConfigs) {
        String processOptions = configuration.getOrDefault(
                name.startsWith("jobmanager") ? "env.java.opts.jobmanager" : "env.java.opts.taskmanager", "");
        List<String> command = new ArrayList<>();
        command.add(KafkaBroker.javaExecutable());
        command.addAll(params.jvmParams());
        command.addAll(LOCAL_JVM_OPTIONS);
        command.addAll(splitOptions(configuration.get("env.java.opts.all")));
        command.addAll(splitOptions(processOptions));
        command.addAll(List.of("-Dlog.file=" + workDir.resolve("log/" + name + ".log"),
                "-Dlog4j.configurationFile=" + workDir.resolve("conf/log4j.properties").toUri(),
                "-cp", classpath,
                ParentWatchingMain.class.getName(), Long.toString(ProcessHandle.current().pid()), mainClass,
                "--configDir", workDir.resolve("conf").toString()));
        command.addAll(params.dynamicConfigs());
        command.addAll(extraDynamicConfigs);
        return ManagedProcess.start(name, command, workDir.resolve("log/" + name + ".out"), false,
                Map.of("DJL_OFFLINE", "true", "FLINK_CONF_DIR", workDir.resolve("conf").toString()));
    }

    /** Starts one more TaskManager (resource id {@code tm-N}) and returns its resource id. */
    public synchronized String startTaskManager() {
        String id = "tm-" + (++taskManagersStarted);
        launchTaskManager(id);
        return id;
    }

    private void launchTaskManager(String resourceId) {
        taskManagers.put(resourceId, startFlinkProcess(workDir, configuration, classpath, "taskmanager-" + resourceId,
                TASK_MANAGER_MAIN, taskManagerParams, List.of("-D", "taskmanager.resource-id=" + resourceId)));
    }

    /** Waits until the REST API answers and {@code taskManagers} TaskManagers have registered. */
    public FlinkProcessCluster awaitReady(int taskManagerCount, Duration timeout) {
        awaitCondition("the JobManager with " + taskManagerCount + " TaskManagers", timeout, () -> {
            checkAlive();
            JsonNode overview = tryGet("/overview");
            return overview != null && overview.path("taskmanagers").asInt() == taskManagerCount;
        });
        return this;
    }

    public String restUrl() {
        return restUrl;
    }

    /**
     * Submits a job jar with Flink's CLI front end ({@code flink run -d -p PARALLELISM -c MAIN JAR ARGS},
     * detached) and returns the job id. The job's main method runs in the CLI's JVM, as with {@code bin/flink}.
     */
    public String submit(Path jobJar, String mainClass, int parallelism, List<String> jobArgs) {
        return runCli(List.of("run", "-d", "-p", Integer.toString(parallelism), "-c", mainClass, jobJar.toString()), jobArgs);
    }

    /**
     * Like {@link #submit}, but the job starts from a retained checkpoint or a savepoint ({@code flink run -s PATH}),
     * as the Kubernetes operator resubmits a job on an upgrade.
     */
    public String submitFrom(String checkpointPath, Path jobJar, String mainClass, int parallelism, List<String> jobArgs) {
        return runCli(List.of("run", "-d", "-s", checkpointPath, "-p", Integer.toString(parallelism), "-c", mainClass,
                jobJar.toString()), jobArgs);
    }

    private String runCli(List<String> cliArgs, List<String> jobArgs) {
        List<String> command = new ArrayList<>();
        command.add(KafkaBroker.javaExecutable());
        command.add("-Xmx512m");
        command.addAll(LOCAL_JVM_OPTIONS);
        command.addAll(JAVA17_OPTIONS);
        command.addAll(List.of("-Dlog.file=" + workDir.resolve("log/client.log"),
                "-Dlog4j.configurationFile=" + confDir.resolve("log4j.properties").toUri(),
                "-cp", classpath, CLI_MAIN));
        command.addAll(cliArgs);
        command.addAll(jobArgs);
        Path out = workDir.resolve("log/submit-" + System.nanoTime() + ".out");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().put("FLINK_CONF_DIR", confDir.toString());
        builder.environment().put("DJL_OFFLINE", "true");
        try {
            Process process = builder.start();
            if (!process.waitFor(SUBMIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("flink run did not return within " + SUBMIT_TIMEOUT + "; output:\n" + tail(out, 40));
            }
            String output = Files.readString(out);
            Matcher id = JOB_ID.matcher(output);
            if (process.exitValue() != 0 || !id.find()) {
                throw new IllegalStateException("flink run failed (exit " + process.exitValue() + "); output:\n" + tail(out, 40));
            }
            return id.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run Flink's CLI front end", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while submitting a job", e);
        }
    }

    /** The job's state as the REST API reports it (CREATED, RUNNING, RESTARTING, CANCELED, FAILED...). */
    public String jobState(String jobId) {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** Whether the job runs and every one of its tasks is RUNNING (deployed and started). */
    public boolean allTasksRunning(String jobId) {
        JsonNode job = get("/jobs/" + jobId);
        if (!"RUNNING".equals(job.path("state").asText())) {
            return false;
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (!"RUNNING".equals(vertex.path("status").asText())) {
                return false;
            }
        }
        return true;
    }

    /** Where the job's latest completed checkpoint lies (for {@link #submitFrom}). */
    public String latestCheckpointPath(String jobId) {
        String path = get("/jobs/" + jobId + "/checkpoints").path("latest").path("completed").path("external_path").asText();
        if (path.isEmpty()) {
            throw new IllegalStateException("job " + jobId + " has no completed checkpoint");
        }
        return path;
    }

    /** Checkpoints of the job that completed so far. */
    public long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /** Failures the job has recorded so far; under a restart strategy each one restarted it. */
    public long restarts(String jobId) {
        return get("/jobs/" + jobId + "/exceptions?maxExceptions=100").path("exceptionHistory").path("entries").size();
    }

    /** Slots of each registered TaskManager that currently run tasks, by resource id. */
    public Map<String, Integer> usedSlots() {
        Map<String, Integer> used = new LinkedHashMap<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            used.put(tm.path("id").asText(), tm.path("slotsNumber").asInt() - tm.path("freeSlots").asInt());
        }
        return used;
    }

    /** Cancels the job through the REST API and waits until it is CANCELED. */
    public void cancel(String jobId, Duration timeout) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + jobId + "?mode=cancel"))
                    .timeout(REST_TIMEOUT).method("PATCH", HttpRequest.BodyPublishers.noBody()).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("cancelling job " + jobId + " failed: HTTP " + response.statusCode() + " " + response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the JobManager at " + restUrl, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while cancelling " + jobId, e);
        }
        awaitCondition("job " + jobId + " CANCELED", timeout, () -> "CANCELED".equals(jobState(jobId)));
    }

    /** Whether the TaskManager {@code resourceId} is running. */
    public boolean isAlive(String resourceId) {
        return taskManager(resourceId).isAlive();
    }

    /** Starts a dead TaskManager again under its resource id, as Kubernetes restarts a TaskManager's pod. */
    public synchronized void restartTaskManager(String resourceId) {
        if (taskManager(resourceId).isAlive()) {
            throw new IllegalStateException("TaskManager " + resourceId + " is running");
        }
        launchTaskManager(resourceId);
    }

    /** SIGKILLs a TaskManager (no shutdown hooks, no goodbye to the JobManager) and waits until it is gone. */
    public void killTaskManager(String resourceId) {
        ManagedProcess process = taskManager(resourceId);
        ProcessHandle.of(process.pid()).ifPresent(handle -> {
            handle.destroyForcibly();
            handle.onExit().orTimeout(30, TimeUnit.SECONDS).join();
        });
    }

    /** The log files of every TaskManager started so far (Flink's own log and the JVM's stdout). */
    public List<Path> taskManagerLogs() {
        List<Path> logs = new ArrayList<>();
        for (ManagedProcess tm : taskManagers.values()) {
            logs.add(workDir.resolve("log/" + tm.name() + ".log"));
            logs.add(tm.logFile());
        }
        return logs;
    }

    public Path jobManagerLog() {
        return workDir.resolve("log/jobmanager.log");
    }

    /** A GET of the REST API, e.g. {@code get("/jobs/overview")}. */
    public JsonNode get(String path) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(restUrl + path)).timeout(REST_TIMEOUT).GET().build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
            }
            return json.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the JobManager at " + restUrl + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + path, e);
        }
    }

    private JsonNode tryGet(String path) {
        try {
            return get(path);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Polls {@code condition} every half second until it holds; fails with the JobManager's log tail after
     * {@code timeout}. Not more often: conditions that read Kafka topics cost the broker and this JVM CPU.
     */
    public void awaitCondition(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waited " + timeout.toSeconds() + " s for " + what + "\n" + diagnosis());
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }

    /**
     * What a timed-out wait needs to be explained from a CI log: which processes live, each job's state, its tasks'
     * states and failure history, and the warnings and state changes of every log (a log tail alone shows only the
     * last second's routine lines).
     */
    public String diagnosis() {
        StringBuilder out = new StringBuilder("processes:");
        List<ManagedProcess> all = new ArrayList<>(taskManagers.values());
        all.add(0, jobManager);
        for (ManagedProcess process : all) {
            out.append(' ').append(process.name()).append(process.isAlive() ? "=alive" : "=gone");
        }
        JsonNode jobs = tryGet("/jobs/overview");
        for (JsonNode job : jobs == null ? json.createArrayNode() : jobs.path("jobs")) {
            String id = job.path("jid").asText();
            out.append("\njob ").append(job.path("name").asText()).append(' ').append(id).append(' ')
                    .append(job.path("state").asText());
            JsonNode detail = tryGet("/jobs/" + id);
            for (JsonNode vertex : detail == null ? json.createArrayNode() : detail.path("vertices")) {
                out.append("\n  ").append(vertex.path("name").asText()).append(": ").append(vertex.path("status").asText())
                        .append(' ').append(vertex.path("tasks"));
            }
            JsonNode exceptions = tryGet("/jobs/" + id + "/exceptions?maxExceptions=10");
            for (JsonNode entry : exceptions == null ? json.createArrayNode() : exceptions.path("exceptionHistory").path("entries")) {
                String stack = entry.path("stacktrace").asText();
                out.append("\n  failure at ").append(entry.path("timestamp").asLong()).append(" in ")
                        .append(entry.path("taskName").asText("(job)")).append(" on ")
                        .append(entry.path("endpoint").asText(entry.path("location").asText())).append(": ")
                        .append(stack.lines().limit(3).reduce((a, b) -> a + " | " + b).orElse(entry.path("exceptionName").asText()));
            }
        }
        List<Path> logs = new ArrayList<>();
        logs.add(jobManagerLog());
        logs.add(jobManager.logFile());
        logs.addAll(taskManagerLogs());
        for (Path log : logs) {
            out.append("\n--- ").append(log.getFileName()).append(": warnings, errors and state changes\n")
                    .append(notableLines(log, 40));
        }
        out.append("\n--- jobmanager.log, last lines\n").append(tail(jobManagerLog(), 15));
        return out.toString();
    }

    private static String notableLines(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no " + file + ")";
            }
            List<String> notable = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .filter(line -> NOTABLE.matcher(line).find() && !ROUTINE.matcher(line).find())
                    .map(line -> line.length() > 400 ? line.substring(0, 400) + "..." : line).toList();
            List<String> tail = notable.subList(Math.max(0, notable.size() - lines), notable.size());
            // Why a process died can lie before the tail (a TaskManager's fatal error, then its tasks' cleanup).
            List<String> fatal = notable.stream().filter(line -> FATAL.matcher(line).find() && !tail.contains(line))
                    .limit(5).toList();
            return String.join("\n", fatal.isEmpty() ? tail
                    : java.util.stream.Stream.concat(fatal.stream().map(line -> "[fatal] " + line), tail.stream()).toList());
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable " + file + ": " + e.getMessage() + ")";
        }
    }

    private void checkAlive() {
        jobManager.checkAlive();
        taskManagers.values().stream().filter(Predicate.not(ManagedProcess::isAlive)).findFirst()
                .ifPresent(ManagedProcess::checkAlive);
    }

    private ManagedProcess taskManager(String resourceId) {
        ManagedProcess process = taskManagers.get(resourceId);
        if (process == null) {
            throw new IllegalArgumentException("no TaskManager " + resourceId + "; started: " + taskManagers.keySet());
        }
        return process;
    }

    /** CPU time the cluster's live processes have used so far (a killed TaskManager's is gone with it). */
    public Duration cpuTime() {
        List<ManagedProcess> all = new ArrayList<>(taskManagers.values());
        all.add(jobManager);
        return all.stream().map(p -> ProcessHandle.of(p.pid()).flatMap(h -> h.info().totalCpuDuration()).orElse(Duration.ZERO))
                .reduce(Duration.ZERO, Duration::plus);
    }

    /** Stops the TaskManagers, then the JobManager. */
    @Override
    public void close() {
        List<ManagedProcess> all = new ArrayList<>(taskManagers.values());
        all.add(jobManager);
        all.forEach(process -> process.stop(Duration.ofSeconds(10)));
    }

    private static List<String> splitOptions(String options) {
        return options.isBlank() ? List.of() : Arrays.asList(options.trim().split("\\s+"));
    }

    private static String log4jProperties() {
        return String.join("\n",
                "monitorInterval = 0",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = MainAppender",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}",
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                "");
    }

    private static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no " + file + ")";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(unreadable " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Flink's runtime jars and DJL, as resolved by Maven when local-env/flink-runtime was built, plus the launcher. */
    private static String classpath() {
        try (InputStream in = FlinkProcessCluster.class.getClassLoader().getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CLASSPATH_RESOURCE + " is missing: build the project first (mvn -B -DskipTests package)");
            }
            String jars = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            Path launcher = Path.of(ParentWatchingMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return launcher + java.io.File.pathSeparator + jars;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JVM options and dynamic settings Flink's scripts get from BashJavaUtils for a process's memory. */
    private record ResourceParams(List<String> jvmParams, List<String> dynamicConfigs) {

        static ResourceParams compute(Path workDir, String classpath, String command) {
            List<String> cmd = new ArrayList<>(List.of(KafkaBroker.javaExecutable(), "-Xmx128m"));
            cmd.addAll(LOCAL_JVM_OPTIONS);
            cmd.addAll(List.of("-cp", classpath, RESOURCE_PARAMS_MAIN, command, "--configDir", workDir.resolve("conf").toString()));
            try {
                Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                process.waitFor(30, TimeUnit.SECONDS);
                List<String> results = output.lines().filter(l -> l.startsWith(RESOURCE_PARAMS_PREFIX))
                        .map(l -> l.substring(RESOURCE_PARAMS_PREFIX.length())).toList();
                if (process.exitValue() != 0 || results.size() < 2) {
                    throw new IllegalStateException("BashJavaUtils " + command + " failed: the memory settings in "
                            + workDir.resolve("conf/config.yaml") + " do not add up; output:\n" + output);
                }
                return new ResourceParams(splitOptions(results.get(results.size() - 2)), splitOptions(results.get(results.size() - 1)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run BashJavaUtils", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while computing Flink's memory settings", e);
            }
        }
    }
}
