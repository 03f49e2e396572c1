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

    Source<Either<DeadLetter, AdImpression>, ?, ?> impressions();

    Source<Either<DeadLetter, AdClick>, ?, ?> clicks();
}
