package org.ctrranker.operators.scoring;

import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateInitializationContext;

/**
 * Chaos testing ({@code ctr.fault-injection.scorer-fail-after-auctions}): one failure per job, when a checkpoint
 * completes that a scorer subtask took, before it finished, holding a model version and after taking in that many
 * auctions in its current attempt, so the restart restores versions and not only the initial model.
 *
 * <p>Auctions taken in, not scored: a bounded input is read at once, and its auctions wait for the trainer's
 * versions; most are scored in one burst when the last versions come, and the scorer finishes right after, so a
 * count of scored auctions was reached by no checkpoint, or by the last. The checkpoint carries a mark (union
 * operator state): a restart of any cause that restores it fails no more, and one that restores an earlier
 * checkpoint (a restart of another cause) still gets its failure. A checkpoint taken after the scorer finished is
 * never marked: a restore from it would skip the scorer.
 */
final class InjectedScorerFailure {

    private final long failAfterAuctions;
    private ListState<Boolean> marks;
    private boolean marked;
    private long auctionsTaken;
    /** The first checkpoint this attempt marked; -1 while none. */
    private long markedAt;
    /** The last checkpoint this attempt took before the scorer finished. */
    private long lastTakenRunning;

    InjectedScorerFailure(long failAfterAuctions) {
        this.failAfterAuctions = failAfterAuctions;
    }

    void initialize(StateInitializationContext context) throws Exception {
        markedAt = -1;
        lastTakenRunning = -1;
        auctionsTaken = 0;
        if (failAfterAuctions <= 0) {
            return; // no state at all where nothing is injected
        }
        marks = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("injected-failure", Types.BOOLEAN));
        marked = marks.get().iterator().hasNext();
    }

    void auctionTaken() {
        auctionsTaken++;
    }

    void snapshot(long checkpointId, boolean holdsVersions, boolean finished) throws Exception {
        if (marks == null) {
            return;
        }
        if (!finished) {
            lastTakenRunning = checkpointId;
            if (!marked && auctionsTaken >= failAfterAuctions && holdsVersions) {
                marked = true;
                markedAt = checkpointId;
            }
        }
        marks.update(marked ? List.of(true) : List.of());
    }

    void checkpointCompleted(long checkpointId, String subtask) {
        if (markedAt >= 0 && checkpointId >= markedAt && checkpointId <= lastTakenRunning) {
            markedAt = -1;
            throw new IllegalStateException("injected failure: " + subtask + " after taking in " + auctionsTaken
                    + " auctions, at checkpoint " + checkpointId + " (ctr.fault-injection.scorer-fail-after-auctions="
                    + failAfterAuctions + ")");
        }
    }
}
