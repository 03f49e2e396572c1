package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.Features;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A replay must score an auction exactly as the first run did, whatever micro-batch it lands in: the same request
 * scored alone, inside a batch of 64, or at another position of the batch gets the same pCTR bit for bit through
 * {@code CtrModel.scoreBatchInvariant}, which the scorer uses (plain CtrModel.score does not: the first test prints
 * how many differ). The invariance rests on how this machine's kernels sum (see scoreBatchInvariant), so the batches
 * here take every shape a call can: 1 to 12 candidates, 0 to 30 clicks, 0 to 10 aligned unclicks per click, and
 * micro-batches of 1 to 1,440 candidates.
 */
class ScoringBatchInvarianceTest {

    @ParameterizedTest(name = "up to {0} aligned unclicks per click")
    @ValueSource(ints = {1, 4, 10})
    void theSameRequestGetsTheSameBitsAloneInABatchOf64AndAtAnotherPosition(int maxUnclicks) {
        Random random = new Random(5 + maxUnclicks);
        List<ScoringRequest> requests = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int candidates = 1 + random.nextInt(12);
            // every history length the encoder trims to (1, 2, 4, 8, 16 and L = 30 clicks) in the batch
            int clicks = i % 4 == 0 ? random.nextInt(31) : random.nextInt(9);
            requests.add(request(random, candidates, clicks, maxUnclicks));
        }
        try (CtrModel model = CtrModel.create(configOfTheDefaultShape().modelConfig())) {
            int rawDifferences = countRawDifferences(model, requests);
            System.out.println("CtrModel.score alone vs in a batch of 64: " + rawDifferences + " pCTRs differ");

            float[][] inBatch = model.scoreBatchInvariant(requests);
            List<ScoringRequest> reversed = new ArrayList<>(requests);
            Collections.reverse(reversed);
            float[][] reversedBatch = model.scoreBatchInvariant(reversed);
            for (int i = 0; i < requests.size(); i++) {
                ScoringRequest request = requests.get(i);
                assertThat(bits(model.scoreBatchInvariant(List.of(request))[0])).as("request %d alone", i)
                        .isEqualTo(bits(inBatch[i]));
                assertThat(bits(reversedBatch[requests.size() - 1 - i])).as("request %d at position %d", i, 63 - i)
                        .isEqualTo(bits(inBatch[i]));
                assertThat(bits(model.scoreBatchInvariant(List.of(requests.get((i + 7) % 64), request))[1]))
                        .as("request %d second of two", i).isEqualTo(bits(inBatch[i]));
            }
        }
    }

    @Test
    void aMicroBatchOverOneModelCallIsSplitWithoutChangingAScore() {
        Random random = new Random(11);
        List<ScoringRequest> requests = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            requests.add(request(random, 12, random.nextInt(31), 10));
        }
        try (CtrModel model = CtrModel.create(configOfTheDefaultShape().modelConfig())) {
            float[][] all = model.scoreBatchInvariant(requests); // 1,440 candidates: 23 calls of 64 rows
            assertThat(all.length).isEqualTo(120);
            // requests 5 (candidates 60 to 71) and 85 (1,020 to 1,031) straddle two calls
            for (int i : new int[] {0, 5, 20, 85, 86, 119}) {
                assertThat(bits(model.scoreBatchInvariant(List.of(requests.get(i)))[0])).as("request %d", i).isEqualTo(bits(all[i]));
            }
        }
    }

    /** Candidates whose pCTR from plain CtrModel.score differs between scored alone and in the batch. */
    private static int countRawDifferences(CtrModel model, List<ScoringRequest> requests) {
        float[][] batch = model.score(requests);
        int differences = 0;
        for (int i = 0; i < requests.size(); i++) {
            int[] alone = bits(model.score(List.of(requests.get(i)))[0]);
            int[] inBatch = bits(batch[i]);
            for (int c = 0; c < alone.length; c++) {
                differences += alone[c] == inBatch[c] ? 0 : 1;
            }
        }
        return differences;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToIntBits(values[i]);
        }
        return bits;
    }

    /** A user with {@code clicks} clicks, each with 0 to {@code maxUnclicks} aligned unclicks, and its candidates. */
    static ScoringRequest request(Random random, int candidates, int clicks, int maxUnclicks) {
        List<Features> features = new ArrayList<>();
        String user = "u" + random.nextInt(1000);
        for (int c = 0; c < candidates; c++) {
            long[] ids = new long[ModelInputs.SPARSE_FIELDS];
            ids[0] = FeatureHash.of("user", user);
            ids[ModelInputs.TARGET_FIELD] = FeatureHash.item("ad-" + random.nextInt(500));
            for (int f = 2; f < ids.length; f++) {
                ids[f] = FeatureHash.of("f" + f, Integer.toString(random.nextInt(50)));
            }
            float[] dense = new float[ModelInputs.DENSE_FEATURES];
            for (int d = 0; d < dense.length; d++) {
                dense[d] = random.nextInt(5) / 4f;
            }
            features.add(new Features(ids, dense, ModelInputs.SERVING_POSITION));
        }
        UserHistory history = UserHistory.EMPTY;
        if (clicks > 0) {
            long[] clickKeys = new long[clicks];
            long[][] slots = new long[clicks][];
            for (int k = 0; k < clicks; k++) {
                clickKeys[k] = FeatureHash.item("ad-" + random.nextInt(500));
                slots[k] = new long[random.nextInt(maxUnclicks + 1)];
                for (int s = 0; s < slots[k].length; s++) {
                    slots[k][s] = FeatureHash.item("ad-" + random.nextInt(500));
                }
            }
            history = new UserHistory(clickKeys, slots);
        }
        return new ScoringRequest(history, features);
    }

    private static OnlineConfig configOfTheDefaultShape() {
        Map<String, String> s = new HashMap<>(AuctionScorerTest.settings(64, 5));
        s.put("ctr.model.embedding-dim", "16");
        s.put("ctr.model.hash-buckets", "16384");
        s.put("ctr.model.hidden-layers", "200,80");
        s.put("ctr.features.feedback.max-clicks", "30");
        s.put("ctr.features.feedback.unclicks-per-side", "5");
        return OnlineConfig.fromSettings(s);
    }
}
