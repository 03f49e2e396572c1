package org.ctrranker.localenv;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void noPortIsPickedTwiceAmongTheRecentPicks() {
        // the kernel often hands out a port again soon after it was closed; 512 picks repeat one almost surely
        List<Integer> picked = new ArrayList<>();
        for (int i = 0; i < FreePorts.RECENTLY_PICKED * 2; i++) {
            picked.add(FreePorts.next());
        }
        assertThat(picked).allMatch(port -> port > 0);
        for (int from = 0; from + FreePorts.RECENTLY_PICKED <= picked.size(); from++) {
            List<Integer> recent = picked.subList(from, from + FreePorts.RECENTLY_PICKED);
            assertThat(new HashSet<>(recent)).as("picks %d to %d", from, from + recent.size()).hasSameSizeAs(recent);
        }
    }
}
