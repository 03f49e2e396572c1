package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.Features;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;

/**
 * Model calls whose results do not depend on which other auctions share the micro-batch, so a replay
 * (failover, rerun) serves bitwise the same pCTR as the first run.
 *
 * <p>Why: {@code CtrModel.score} on the CPU is not batch-invariant. The rows are padded to a bucket
 * (1, 4, 16, ..., 1024) that depends on the batch, the encoder trims the history arrays to the longest
 * history in the call, and small calls take other kernels; each changes the summation order, and a
 * request scored alone differed from the same request in a batch of 64 by an ulp (measured: 2 of ~400
 * candidates; ScoringBatchInvarianceTest prints the count). So every call made here has exactly
 * {@code ctr.scoring.exact-call-rows} rows (64 by default) and the longest history there is: the
 * requests, then a fixed anchor user with every history slot filled and as many filler candidates as
 * the rows left. A micro-batch over one call
 * is cut into several at request boundaries. ScoringBatchInvarianceTest is the guard (alone, in a batch
 * of 64, at another position: the same bits). Rounding the served scores would only make a difference
 * rarer, not impossible (a value next to a rounding boundary still flips); scoring each auction alone
 * costs 2-4x the CPU. The price here: a call costs its full rows and the anchor's full history even for
 * one auction. Per CPU-second at the default shape (10 candidates per auction, 1 / 2 / 5 / 20 / 64 auctions
 * per micro-batch; stop 16, 2-core machine): 64-row calls 5.9k / 10.1k / 17.6k / 18.6k / 20.2k candidates,
 * 256-row calls 0.3k / 1.6k / 2.3k / 5.8k / 5.6k, 16-row calls 5.6k to 7.9k.
 */
final class InvariantBatches {

    /** The anchor's fewest candidates: at least two rows and two users in every call. */
    private static final int MIN_FILL = 2;

    /** Rows of every call ({@code ctr.scoring.exact-call-rows}): one of the model's padding buckets. */
    private final int callRows;
    private final UserHistory anchorHistory;
    private final List<Features> fill;

    InvariantBatches(OnlineConfig config) {
        this.callRows = config.exactCallRows();
        this.anchorHistory = anchorHistory(config);
        this.fill = fillRows(callRows);
    }

    /** pCTR per request and candidate, as {@code model.score(requests)}. */
    float[][] score(CtrModel model, List<ScoringRequest> requests) {
        float[][] out = new float[requests.size()][];
        int budget = callRows - MIN_FILL;
        int from = 0;
        while (from < requests.size()) {
            List<ScoringRequest> call = new ArrayList<>();
            call.add(null);
            int rows = 0;
            int to = from;
            // a request over the budget goes alone with the smallest anchor (not seen from real auctions)
            while (to < requests.size() && (to == from || rows + requests.get(to).candidates().size() <= budget)) {
                rows += requests.get(to).candidates().size();
                call.add(requests.get(to++));
            }
            call.set(0, new ScoringRequest(anchorHistory, fill.subList(0, Math.max(MIN_FILL, callRows - rows))));
            float[][] scored = model.score(call);
            System.arraycopy(scored, 1, out, from, to - from);
            from = to;
        }
        return out;
    }

    /** A fixed user with every history slot filled. */
    private static UserHistory anchorHistory(OnlineConfig config) {
        int clicks = config.historyLength();
        long[] clickKeys = new long[clicks];
        long[][] slots = new long[clicks][config.slotsPerClick()];
        for (int c = 0; c < clicks; c++) {
            clickKeys[c] = FeatureHash.item("anchor-click-" + c);
            for (int s = 0; s < slots[c].length; s++) {
                slots[c][s] = FeatureHash.item("anchor-unclick-" + c + "-" + s);
            }
        }
        return new UserHistory(clickKeys, slots);
    }

    private static List<Features> fillRows(int n) {
        List<Features> rows = new ArrayList<>(n);
        for (int a = 0; a < n; a++) {
            long[] ids = new long[ModelInputs.SPARSE_FIELDS];
            for (int f = 0; f < ids.length; f++) {
                ids[f] = f == ModelInputs.TARGET_FIELD ? FeatureHash.item("anchor-ad-" + a)
                        : FeatureHash.of("anchor-" + f, Integer.toString(a % 7));
            }
            rows.add(new Features(ids, new float[ModelInputs.DENSE_FEATURES], ModelInputs.SERVING_POSITION));
        }
        return List.copyOf(rows);
    }
}
