package org.ctrranker.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.DeadLetter;
import org.junit.jupiter.api.Test;

class AvroCodecTest {

    private final AvroCodec<AdClick> clicks = AvroCodec.forTopic(EventTopic.AD_CLICKS, AdClick.class);

    @Test
    void roundTripsARecord() throws IOException {
        AdClick click = new AdClick("c1", "i1", "u1", "a1", 1_700_000_000_123L);
        byte[] bytes = clicks.encode(click);
        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(clicks.decode(bytes)).isEqualTo(click);
    }

    @Test
    void readsDataWrittenWithAnOlderVersionThroughItsFingerprint() throws IOException {
        // An older producer whose dead letters had no partition and offset yet.
        Schema older = withoutFields(EventTopic.DEAD_LETTERS.schema(), "source_partition", "source_offset");
        GenericRecord record = new GenericData.Record(older);
        record.put("source_topic", "ad-clicks");
        record.put("stage", "decode");
        record.put("reason", "truncated");
        record.put("failed_at_ms", 42L);
        ByteBuffer written = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(record);
        byte[] bytes = new byte[written.remaining()];
        written.get(bytes);

        AvroCodec<DeadLetter> current = AvroCodec.forTopic(EventTopic.DEAD_LETTERS, DeadLetter.class);
        assertThatThrownBy(() -> current.decode(bytes)).as("unknown fingerprint").isInstanceOf(IOException.class);

        DeadLetter read = new AvroCodec<>(DeadLetter.class, EventTopic.DEAD_LETTERS.schema(), List.of(older))
                .decode(bytes);
        assertThat(read.getSourceTopic()).isEqualTo("ad-clicks");
        assertThat(read.getSourcePartition()).isEqualTo(-1);
        assertThat(read.getSourceOffset()).isEqualTo(-1L);
        assertThat(read.getFailedAtMs()).isEqualTo(42L);
    }

    @Test
    void anAuctionOrSampleWrittenBeforeTheBackfillFlagReadsAsLiveTraffic() throws IOException {
        AdAuction auction = new AdAuction("a1", 1_700_000_000_000L, "u1",
                new Scenario("page", "slot-1", null, 300, 250, null, null),
                new RequestContext(null, null, null, null, 10, 1, List.of()), Pricing.CPC, 0L,
                List.of(new Candidate("ad-1", "c1", "adv1", "", 900_000L)), List.of(new AuctionWinner("ad-1", 1, 1L)), true);
        AvroCodec<AdAuction> auctions = AvroCodec.forTopic(EventTopic.AD_AUCTIONS, AdAuction.class);
        assertThat(auctions.decode(auctions.encode(auction)).getBackfill()).as("the current version keeps the flag").isTrue();

        Schema v1 = SchemaHistory.versions(EventTopic.AD_AUCTIONS).get(0);
        assertThat(v1.getField("backfill")).as("v1 predates the flag").isNull();
        AdAuction read = auctions.decode(writtenWith(v1, auction));
        assertThat(read.getBackfill()).as("the default: live traffic").isFalse();
        assertThat(AdAuction.newBuilder(read).setBackfill(true).build()).isEqualTo(auction);

        Schema samplesV1 = SchemaHistory.versions(EventTopic.TRAINING_SAMPLES).get(0);
        assertThat(samplesV1.getField("backfill")).isNull();
        assertThat(EventTopic.TRAINING_SAMPLES.schema().getField("backfill").defaultVal()).isEqualTo(false);
    }

    /** Bytes an older producer on {@code writer} would have sent (its fields are a prefix of the current ones). */
    private static byte[] writtenWith(Schema writer, org.apache.avro.specific.SpecificRecord record) throws IOException {
        ByteBuffer written = new BinaryMessageEncoder<org.apache.avro.specific.SpecificRecord>(
                org.apache.avro.specific.SpecificData.get(), writer).encode(record);
        byte[] bytes = new byte[written.remaining()];
        written.get(bytes);
        return bytes;
    }

    private static Schema withoutFields(Schema schema, String... names) {
        List<String> dropped = List.of(names);
        List<Schema.Field> kept = schema.getFields().stream()
                .filter(f -> !dropped.contains(f.name()))
                .map(f -> new Schema.Field(f, f.schema()))
                .toList();
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, kept);
    }

    @Test
    void rejectsBytesThatAreNotAKnownRecord() {
        assertThatThrownBy(() -> clicks.decode("not avro at all".getBytes())).isInstanceOf(IOException.class);
        byte[] truncated = java.util.Arrays.copyOf(clicks.encode(new AdClick("c", "i", "u", "a", 1L)), 12);
        assertThatThrownBy(() -> clicks.decode(truncated)).isInstanceOf(IOException.class);
    }

    @Test
    void refusesACodecForTheWrongRecordType() {
        assertThatThrownBy(() -> AvroCodec.forTopic(EventTopic.AD_AUCTIONS, AdClick.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ad-auctions");
    }
}
