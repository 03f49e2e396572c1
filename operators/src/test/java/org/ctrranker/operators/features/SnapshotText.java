package org.ctrranker.operators.features;

import java.util.List;
import java.util.stream.Collectors;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.UserFeedbackSnapshot;

/** A snapshot as short text, by ad id: {@code e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]}. */
final class SnapshotText {

    private SnapshotText() {}

    static String of(UserFeedbackSnapshot s) {
        StringBuilder b = new StringBuilder();
        for (AlignedClick c : s.getClicks()) {
            b.append(c.getClick().getAdId()).append('[').append(ads(c.getBefore())).append('|')
                    .append(ads(c.getAfter())).append("] ");
        }
        return b.append("recent[").append(ads(s.getRecentUnclicks())).append(']').toString();
    }

    private static String ads(List<Exposure> exposures) {
        return exposures.stream().map(Exposure::getAdId).collect(Collectors.joining(" "));
    }
}
