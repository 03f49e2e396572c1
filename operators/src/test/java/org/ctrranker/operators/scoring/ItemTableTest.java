package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.operators.features.ItemTick;
import org.junit.jupiter.api.Test;

class ItemTableTest {

    @Test
    void anAdsCountsAreItsNewestTickAtOrBeforeThePointInTimeInAnyArrivalOrder() {
        ItemTable table = ItemTable.of(List.of(new ItemTick("x", 30, 3, 1), new ItemTick("x", 10, 1, 0),
                new ItemTick("x", 20, 2, 0), new ItemTick("x", 20, 2, 1)));
        assertThat(table.at("x", 9)).isNull();
        assertThat(table.at("x", 25)).as("a replayed tick replaces its first copy").isEqualTo(new ItemCounts(20L, 2L, 1L));
        assertThat(table.at("x", 1_000)).isEqualTo(new ItemCounts(30L, 3L, 1L));
        assertThat(table.at("y", 1_000)).isNull();
    }

    @Test
    void pruningKeepsWhatAnyLaterPointInTimeTakesAndExpiryForgetsIdleAds() {
        ItemTable table = ItemTable.of(List.of(new ItemTick("x", 10, 1, 0), new ItemTick("x", 20, 2, 0),
                new ItemTick("x", 30, 3, 1), new ItemTick("y", 5, 7, 7)));
        table.pruneBefore(25);
        assertThat(table.all()).extracting(t -> t.adId + "@" + t.asOfMs).containsExactlyInAnyOrder("x@20", "x@30", "y@5");
        assertThat(table.at("x", 25)).isEqualTo(new ItemCounts(20L, 2L, 0L));
        table.expireBefore(10);
        assertThat(table.ads()).isEqualTo(1);
        assertThat(table.at("y", 100)).isNull();
    }
}
