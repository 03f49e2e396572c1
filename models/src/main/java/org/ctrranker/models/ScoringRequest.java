package org.ctrranker.models;

import java.util.List;

/** One auction to score: the user's history (shared by all candidates) and the candidates. */
public record ScoringRequest(UserHistory history, List<Features> candidates) {

    public ScoringRequest {
        if (history == null) {
            history = UserHistory.EMPTY;
        }
        candidates = List.copyOf(candidates);
    }
}
