package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.ingest.EventTimePacer;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.ingest.ProgressBar;
import org.ctrranker.jobs.replay.IpinyouLogReader;
import org.ctrranker.jobs.replay.MindBehaviorsReader;
import org.ctrranker.jobs.replay.ReplayLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replays real logs as the same Avro events, in event-time order, into the input topics.",
                "ipinyou: raw iPinYou RTB logs (*.log.txt); mind: MIND behaviors.tsv (news.tsv beside it gives categories).",
                "Prints a JSON summary line at the end."})
public final class ReplayCommand implements Callable<Integer> {

    enum Format { ipinyou, mind }

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--format", required = true, description = "Log format: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Option(names = "--speedup", defaultValue = "0",
            description = "Play event time this many times faster than real time; 0 = as fast as possible (default: ${DEFAULT-VALUE}).")
    double speedup;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Log files; read together and replayed in event-time order.")
    List<Path> files;

    @Override
    public Integer call() throws IOException {
        for (Path file : files) {
            if (!Files.isReadable(file)) {
                throw new CommandFailure("cannot read " + file + ": give the path of a " + format + " log file");
            }
        }
        ReplayLog log = format == Format.ipinyou ? IpinyouLogReader.read(files) : MindBehaviorsReader.read(files);
        EventTimePacer pacer = new EventTimePacer(speedup);
        ProgressBar progress = new ProgressBar(System.err, "records", log.records().size());
        try (KafkaEventWriter writer = KafkaEventWriter.withDefaultTopics(kafka.bootstrapServers())) {
            for (GeneratedRecord record : log.records()) {
                pacer.awaitDue(record.eventTimeMs());
                writer.accept(record);
                progress.update(writer.sent());
            }
            writer.flush();
            progress.finish(writer.sent());
        }
        System.out.println(new ObjectMapper().writeValueAsString(log.summary()));
        return 0;
    }
}
