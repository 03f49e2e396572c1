package org.ctrranker.operators.features;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.schemas.AvroModels;

/**
 * Records per CPU-second of the serializer every hop between operators and every heap checkpoint uses, for a
 * training sample carrying a full user's feedback snapshot (L = 30 clicks, 5 unclicks each side, as the feedback
 * stage emits it), and of Avro's generic writer beside the generated coders the project writes with. Rounds take
 * turns in one JVM, so a machine whose speed drifts moves both alike. Not a test: run {@code main} with the test
 * classpath; figures go in the issue note.
 */
public final class SampleSerializationBenchmark {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private SampleSerializationBenchmark() {}

    public static void main(String[] args) throws Exception {
        TrainingSample sample = fullUserSample();
        TypeSerializer<TrainingSample> serializer =
                AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
        serializer.serialize(sample, out);
        byte[] bytes = out.getCopyOfBuffer();
        DataInputDeserializer in = new DataInputDeserializer();
        var generic = new SpecificDatumWriter<TrainingSample>(TrainingSample.getClassSchema(),
                SpecificData.getForClass(TrainingSample.class));
        var generated = new SpecificDatumWriter<TrainingSample>(TrainingSample.getClassSchema(),
                AvroModels.forWriting(TrainingSample.class));
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(16 * 1024);
        BinaryEncoder[] encoder = {null};
        System.out.printf("a training sample with a full user's snapshot: %d bytes%n", bytes.length);
        for (int round = 0; round < 8; round++) {
            boolean report = round >= 3; // the first rounds warm the JIT
            measure(report, "AvroSerializer.serialize", () -> {
                out.clear();
                serializer.serialize(sample, out);
                return out.length();
            });
            measure(report, "AvroSerializer.deserialize", () -> {
                in.setBuffer(bytes);
                return serializer.deserialize(in).getImpressionTimeMs();
            });
            measure(report, "Avro generic writer", () -> write(generic, sample, buffer, encoder));
            measure(report, "Avro generated coders", () -> write(generated, sample, buffer, encoder));
        }
    }

    private interface Step {
        /** Does the work once and returns something of its result, so it cannot be optimised away. */
        long run() throws IOException;
    }

    private static long write(SpecificDatumWriter<TrainingSample> writer, TrainingSample sample,
            ByteArrayOutputStream buffer, BinaryEncoder[] encoder) throws IOException {
        buffer.reset();
        encoder[0] = EncoderFactory.get().binaryEncoder(buffer, encoder[0]);
        writer.write(sample, encoder[0]);
        encoder[0].flush();
        return buffer.size();
    }

    private static void measure(boolean report, String what, Step once) throws IOException {
        long start = CPU.getCurrentThreadCpuTime();
        long n = 0;
        long sink = 0;
        while (CPU.getCurrentThreadCpuTime() - start < 500_000_000L) {
            for (int i = 0; i < 100; i++) {
                sink += once.run();
            }
            n += 100;
        }
        double seconds = (CPU.getCurrentThreadCpuTime() - start) / 1e9;
        if (report) {
            System.out.printf("%-28s %,8.0f records per CPU-second (%d)%n", what, n / seconds, sink & 1);
        }
    }

    /** The sample the feedback stage emits for a full user's next impression. */
    private static TrainingSample fullUserSample() throws Exception {
        FeedbackConfig config = FeedbackConfig.defaults();
        FullUserHistory.Events events = FullUserHistory.of("full-user", 40);
        try (var h = UserFeedbackFunctionTest.harness(config)) {
            events.feed(h);
            long next = events.lastTimeMs() + config.attributionWindowMs();
            h.processBothWatermarks(new Watermark(next - 1));
            h.getOutput().clear();
            h.processElement1(FeedbackEvents.impression("full-user", "next", "ad-next", next), next);
            h.processBothWatermarks(new Watermark(next));
            return h.extractOutputValues().get(0);
        }
    }
}
