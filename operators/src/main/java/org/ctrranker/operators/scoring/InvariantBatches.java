package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ScoringRequest;

/**
 * Model calls whose results do not depend on which other auctions share the micro-batch, so a replay
 * (failover, rerun) serves bitwise the same pCTR as the first run.
 *
 * <p>Why: {@code CtrModel.score} on the CPU is not batch-invariant. The rows are padded to a bucket
 * (1, 4, 16, ..., 1024) that depends on the batch, the encoder trims the history arrays to the longest
 * history in the call, and small calls take other kernels; each changes the summation order, and a
 * request scored alone differed from the same request in a batch of 64 by an ulp (measured: 2 of ~400
 * candidates; ScoringBatchInvarianceTest prints the count). So every call made here has exactly
 * {@code ctr.scoring.exact-call-rows} rows (64 by default), and holds requests of one history class only
 * ({@code CtrModel.historyClass}: the power of two that holds the user's clicks), encoded at that class's
 * length: a request's call shape depends on the request alone. A micro-batch is cut into calls per class, in
 * order, at request boundaries. ScoringBatchInvarianceTest is the guard (alone, in a batch of 64, at another
 * position: the same bits). Rounding the served scores would only make a difference rarer, not impossible
 * (a value next to a rounding boundary still flips).
 *
 * <p>The price: a call costs its full rows even for one auction, and a micro-batch with users of several classes
 * makes a call per class. Until stop 28 every call was encoded at the full L x K, forced by a fixed anchor user
 * with every history slot filled, which made replay-exact calls cost 2.4 to 3.3 times plain ones at 5 to 20
 * auctions per micro-batch with the generator's short histories ({@code ScoringCallsBenchmark}).
 */
final class InvariantBatches {

    /** Rows of every call ({@code ctr.scoring.exact-call-rows}): one of the model's padding buckets. */
    private final int callRows;

    InvariantBatches(OnlineConfig config) {
        this.callRows = config.exactCallRows();
    }

    /** pCTR per request and candidate, as {@code model.score(requests)}. */
    float[][] score(CtrModel model, List<ScoringRequest> requests) {
        float[][] out = new float[requests.size()][];
        Map<Integer, List<Integer>> byClass = new TreeMap<>();
        for (int i = 0; i < requests.size(); i++) {
            byClass.computeIfAbsent(model.historyClass(requests.get(i).history()), c -> new ArrayList<>()).add(i);
        }
        for (Map.Entry<Integer, List<Integer>> entry : byClass.entrySet()) {
            List<Integer> members = entry.getValue();
            int from = 0;
            while (from < members.size()) {
                List<ScoringRequest> call = new ArrayList<>();
                int rows = 0;
                int to = from;
                while (to < members.size()
                        && (to == from || rows + requests.get(members.get(to)).candidates().size() <= callRows)) {
                    ScoringRequest request = requests.get(members.get(to++));
                    rows += request.candidates().size();
                    call.add(request);
                }
                float[][] scored;
                if (rows <= callRows) {
                    scored = model.scoreInFixedShape(call, callRows, entry.getKey());
                } else {
                    // a request over the call's rows goes alone: in the smallest bucket that holds it, or (over the
                    // largest) in plain calls, whose shapes it then chooses alone too
                    int bucket = CtrModel.paddingBucketFor(rows);
                    scored = bucket > 0 ? model.scoreInFixedShape(call, bucket, entry.getKey()) : model.score(call);
                }
                for (int i = 0; i < scored.length; i++) {
                    out[members.get(from + i)] = scored[i];
                }
                from = to;
            }
        }
        return out;
    }
}
