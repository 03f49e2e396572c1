package org.ctrranker.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/** Writing with the generated coders must not change a byte of what topics, state and the network hold. */
class AvroModelsTest {

    @Test
    void everyRecordTypeIsWrittenAsTheGenericWriterWritesIt() throws IOException {
        Random random = new Random(11);
        for (EventTopic topic : EventTopic.values()) {
            Schema schema = topic.schema();
            assertThat(AvroModels.forWriting(topic.recordClass()).useCustomCoders()).isTrue();
            for (int i = 0; i < 200; i++) {
                byte[] generic = write(new GenericDatumWriter<>(schema), randomValue(schema, random, 0));
                SpecificRecord record = new SpecificDatumReader<SpecificRecord>(schema, schema,
                        SpecificData.getForClass(topic.recordClass())).read(null, DecoderFactory.get().binaryDecoder(generic, null));
                byte[] custom = write(new SpecificDatumWriter<>(schema, AvroModels.forWriting(topic.recordClass())), record);
                assertThat(custom).as("%s record %d", topic, i).isEqualTo(generic);
            }
        }
    }

    @Test
    void theTopicCodecWritesWhatItReads() throws IOException {
        Random random = new Random(12);
        for (EventTopic topic : EventTopic.values()) {
            Schema schema = topic.schema();
            byte[] generic = write(new GenericDatumWriter<>(schema), randomValue(schema, random, 0));
            SpecificRecord record = new SpecificDatumReader<SpecificRecord>(schema, schema,
                    SpecificData.getForClass(topic.recordClass())).read(null, DecoderFactory.get().binaryDecoder(generic, null));
            @SuppressWarnings("unchecked")
            AvroCodec<SpecificRecord> codec = (AvroCodec<SpecificRecord>) AvroCodec.forTopic(topic, topic.recordClass());
            byte[] encoded = codec.encode(record);
            assertThat(ByteBuffer.wrap(encoded, 10, encoded.length - 10)).isEqualTo(ByteBuffer.wrap(generic));
            assertThat(codec.decode(encoded)).isEqualTo(record);
        }
    }

    private static <T> byte[] write(org.apache.avro.io.DatumWriter<T> writer, T value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        writer.write(value, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** Any value of {@code schema}: every union branch, empty and long collections, non-ASCII strings. */
    private static Object randomValue(Schema schema, Random random, int depth) {
        return switch (schema.getType()) {
            case RECORD -> {
                GenericData.Record record = new GenericData.Record(schema);
                for (Schema.Field field : schema.getFields()) {
                    record.put(field.pos(), randomValue(field.schema(), random, depth + 1));
                }
                yield record;
            }
            case UNION -> randomValue(schema.getTypes().get(random.nextInt(schema.getTypes().size())), random, depth);
            case ARRAY -> {
                List<Object> items = new ArrayList<>();
                for (int n = depth > 4 ? 0 : random.nextInt(4); n > 0; n--) {
                    items.add(randomValue(schema.getElementType(), random, depth + 1));
                }
                yield new GenericData.Array<>(schema, items);
            }
            case MAP -> {
                Map<String, Object> map = new HashMap<>();
                for (int n = random.nextInt(3); n > 0; n--) {
                    map.put(randomString(random), randomValue(schema.getValueType(), random, depth + 1));
                }
                yield map;
            }
            case ENUM -> new GenericData.EnumSymbol(schema, schema.getEnumSymbols().get(random.nextInt(schema.getEnumSymbols().size())));
            case STRING -> randomString(random);
            case LONG -> random.nextBoolean() ? random.nextLong() : (long) random.nextInt(1000);
            case INT -> random.nextBoolean() ? random.nextInt() : random.nextInt(100);
            case DOUBLE -> random.nextGaussian() * 1e6;
            case FLOAT -> random.nextFloat();
            case BOOLEAN -> random.nextBoolean();
            case BYTES -> {
                byte[] bytes = new byte[random.nextInt(8)];
                random.nextBytes(bytes);
                yield ByteBuffer.wrap(bytes);
            }
            case NULL -> null;
            default -> throw new IllegalStateException("no generator for " + schema.getType() + ": add one");
        };
    }

    private static String randomString(Random random) {
        String[] parts = {"ad-", "u", "é", "中", "7", ""};
        StringBuilder s = new StringBuilder();
        for (int n = random.nextInt(5); n > 0; n--) {
            s.append(parts[random.nextInt(parts.length)]);
        }
        return s.toString();
    }
}
