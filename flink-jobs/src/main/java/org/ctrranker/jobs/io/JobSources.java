package org.ctrranker.jobs.io;

import org.apache.flink.api.connector.source.Source;
import org.apache.flink.types.Either;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.DeadLetter;

/** The job's inputs: each yields decoded, validated events or the dead letters of those that failed. */
public interface JobSources {

    Source<Either<DeadLetter, AdAuction>, ?, ?> auctions();

    /**
     * The auctions again, read on their own for the scorer: a backpressured join or feature stage must not hold
     * back the live rankings, and a source task blocks when any one of its outputs is full.
     */
    Source<Either<DeadLetter, AdAuction>, ?, ?> auctionsToScore();

    Source<Either<DeadLetter, AdImpression>, ?, ?> impressions();

    Source<Either<DeadLetter, AdClick>, ?, ?> clicks();
}
