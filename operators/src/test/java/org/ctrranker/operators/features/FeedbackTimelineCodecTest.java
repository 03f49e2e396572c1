package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.Random;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.junit.jupiter.api.Test;

/**
 * The per-user state's bytes are what retained checkpoints and savepoints hold, so the format is pinned:
 * a restored job must read what an earlier build wrote, and write it back the same.
 */
class FeedbackTimelineCodecTest {

    private static final FeedbackConfig CONFIG =
            FeedbackConfig.builder().maxClicks(4).unclicksPerSide(2).attributionWindowMs(1_000).build();

    /** Written by the codec as it was before its rewrite (DataOutputStream based). */
    private static final String FORMAT_V1_GOLDEN = "01eeafabfef96298c0abfef96280dae281fa620123456789abcdef0a00000461642d3100056361742d6180a0abfef9620200"
            + "0461642d320000148c06010005696d702d33000561642dc3a900076361742de4b8ad14010005696d702d34000561642dc080"
            + "00056361742d6114010005696d702d35000461642d3500056361742d62e41e020005696d702d360484c0abfef96298c0abfef962";

    /** V1 and, after the mirrored hash, the count of pruned clicks (0 here). */
    private static final String FORMAT_V2_GOLDEN = "02" + FORMAT_V1_GOLDEN.substring(2).replace("0123456789abcdef", "0123456789abcdef00");

    /** Every kind of field: open and settled exposures, a click, a click waiting for its exposure, non-ASCII ids. */
    private static FeedbackTimeline sample() {
        FeedbackTimeline t = new FeedbackTimeline(CONFIG);
        long base = 1_700_000_000_000L;
        t.addExposure("imp-1", "ad-1", "cat-a", base);
        t.addExposure("imp-2", "ad-2", "", base + 10);
        t.addExposure("imp-3", "ad-é", "cat-中", base + 20);
        t.addExposure("imp-4", "ad-\u0000", "cat-a", base + 30);
        t.addClick("imp-2", base + 400);
        t.prune(base + 1_015);
        t.addExposure("imp-5", "ad-5", "cat-b", base + 2_000);
        t.addClick("imp-6", base + 2_050);
        t.addClick("imp-6", base + 2_060);
        t.noteEvent(base + 2_060);
        t.idleTimerMs = base + 3_600_000;
        t.mirroredHash = 0x0123456789abcdefL;
        return t;
    }

    @Test
    void writesTheCurrentFormat() {
        assertThat(HexFormat.of().formatHex(FeedbackTimelineCodec.encode(sample()))).isEqualTo(FORMAT_V2_GOLDEN);
    }

    @Test
    void readsTheFormatEarlierBuildsWroteBackToTheSameTimeline() {
        byte[] golden = HexFormat.of().parseHex(FORMAT_V1_GOLDEN);
        FeedbackTimeline decoded = FeedbackTimelineCodec.decode(golden, CONFIG);
        FeedbackTimeline expected = sample();
        assertThat(decoded.size()).isEqualTo(expected.size());
        assertThat(decoded.unmatchedClicks).isEqualTo(expected.unmatchedClicks);
        assertThat(decoded.lastEventTimeMs()).isEqualTo(expected.lastEventTimeMs());
        assertThat(decoded.snapshotAt(1_700_000_003_000L, null)).isEqualTo(expected.snapshotAt(1_700_000_003_000L, null));
        assertThat(FeedbackTimelineCodec.encode(decoded)).isEqualTo(HexFormat.of().parseHex(FORMAT_V2_GOLDEN));
    }

    @Test
    void clicksPrunedFromTheTimelineStillCountAndSurviveARoundTrip() {
        FeedbackTimeline t = new FeedbackTimeline(FeedbackConfig.builder().maxClicks(1).unclicksPerSide(1)
                .attributionWindowMs(1_000).build());
        long base = 1_700_000_000_000L;
        for (int i = 0; i < 3; i++) {
            t.addExposure("imp-" + i, "ad-" + i, "cat", base + 10L * i);
            t.addClick("imp-" + i, base + 10L * i + 5);
        }
        t.addExposure("imp-open", "ad-9", "cat", base + 5_000);
        t.prune(base + 2_000);
        UserFeedbackSnapshot snapshot = t.snapshotAt(base + 5_000, null);
        assertThat(snapshot.getClicks()).as("the last L = 1 click only").hasSize(1);
        assertThat(snapshot.getClickCount()).as("but all three counted").isEqualTo(3);
        FeedbackTimeline decoded = FeedbackTimelineCodec.decode(FeedbackTimelineCodec.encode(t), CONFIG);
        assertThat(decoded.snapshotAt(base + 5_000, null).getClickCount()).isEqualTo(3);
        t.expireThrough(base + 10_000);
        assertThat(t.snapshotAt(base + 20_000, null).getClickCount()).as("an idle user starts again").isZero();
    }

    @Test
    void randomTimelinesSurviveARoundTrip() {
        Random random = new Random(7);
        String[] alphabet = {"a", "Z", "7", "-", "é", "中", "\u0000", "\uD83D\uDE00"};
        for (int round = 0; round < 200; round++) {
            FeedbackTimeline t = new FeedbackTimeline(CONFIG);
            long time = 1_700_000_000_000L + random.nextInt(1_000_000);
            int exposures = random.nextInt(40);
            for (int i = 0; i < exposures; i++) {
                time += random.nextInt(700);
                StringBuilder ad = new StringBuilder("ad");
                for (int k = random.nextInt(6); k > 0; k--) {
                    ad.append(alphabet[random.nextInt(alphabet.length)]);
                }
                String id = "imp-" + round + "-" + i;
                t.addExposure(id, ad.toString(), random.nextBoolean() ? "" : "c" + random.nextInt(5), time);
                if (random.nextInt(4) == 0) {
                    t.addClick(random.nextInt(5) == 0 ? "unseen-" + i : id, time + random.nextInt(900));
                }
                if (random.nextInt(10) == 0) {
                    t.prune(time - 500);
                }
            }
            t.noteEvent(time);
            byte[] bytes = FeedbackTimelineCodec.encode(t);
            FeedbackTimeline decoded = FeedbackTimelineCodec.decode(bytes, CONFIG);
            assertThat(FeedbackTimelineCodec.encode(decoded)).isEqualTo(bytes);
            assertThat(decoded.snapshotAt(time + 5_000, null)).isEqualTo(t.snapshotAt(time + 5_000, null));
            assertThat(decoded.unmatchedClicks).isEqualTo(t.unmatchedClicks);
        }
    }

    @Test
    void refusesAnUnknownFormat() {
        byte[] bytes = FeedbackTimelineCodec.encode(sample());
        bytes[0] = 9;
        assertThatThrownBy(() -> FeedbackTimelineCodec.decode(bytes, CONFIG))
                .hasMessageContaining("unknown feedback state format 9");
    }
}
