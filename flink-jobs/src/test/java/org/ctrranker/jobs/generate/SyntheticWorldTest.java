package org.ctrranker.jobs.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.ctrranker.jobs.generate.SyntheticWorld.Ad;
import org.ctrranker.jobs.generate.SyntheticWorld.User;
import org.junit.jupiter.api.Test;

/** The hidden click model: each planted signal moves the true CTR as documented, and only by what is known at the time. */
class SyntheticWorldTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final long MINUTE = 60_000L;

    private final SyntheticWorld world = new SyntheticWorld(GeneratorConfig.builder().build(), new SplittableRandom(3));
    private final User user = world.users.get(0);
    private final SyntheticWorld.Slot slot = world.slots.get(0);

    @Test
    void eachUnclickedExposureOfTheSameAdLowersTheLogitBy0Point6() {
        Ad ad = world.ads.get(0);
        double before = logit(ad);
        for (int i = 0; i < 3; i++) {
            world.recordExposure(user, ad, NOW - (10 - i) * MINUTE, false);
        }
        assertThat(logit(ad) - before).isCloseTo(-1.8, within(1e-9));
    }

    @Test
    void aClickRaisesItsLookAlikesByTheDotProductOfTheirVectors() {
        List<Ad> campaign = campaignWithAtLeast(2);
        Ad clicked = campaign.get(0);
        Ad lookAlike = campaign.get(1);
        assertThat(world.clickInterest(user, lookAlike, NOW)).isZero();
        world.recordExposure(user, clicked, NOW - MINUTE, true);
        double expected = SyntheticWorld.INTEREST_WEIGHT * dot(clicked.vector(), lookAlike.vector());
        assertThat(world.clickInterest(user, lookAlike, NOW)).isCloseTo(expected, within(1e-12)).isGreaterThan(0.3);
    }

    @Test
    void unclickedLookAlikesAlignedWithAClickDampIt() {
        List<Ad> campaign = campaignWithAtLeast(3);
        Ad clicked = campaign.get(0);
        Ad target = campaign.get(2);
        world.recordExposure(user, clicked, NOW - MINUTE, true);
        double alone = world.clickInterest(user, target, NOW);
        // The look-alike was skipped just before the click: the click counts less for its kind.
        User other = world.users.get(1);
        world.recordExposure(other, campaign.get(1), NOW - 2 * MINUTE, false);
        world.recordExposure(other, clicked, NOW - MINUTE, true);
        double damped = world.clickInterest(other, target, NOW);
        assertThat(damped).isLessThan(alone - 0.3);
    }

    @Test
    void onlyTheFiveNearestUnclicksOnEachSideAreAligned() {
        List<Ad> campaign = campaignWithAtLeast(2);
        Ad clicked = campaign.get(0);
        User a = world.users.get(2);
        User b = world.users.get(3);
        // Six unclicks before the click; the farthest differs between the two users and must not matter.
        world.recordExposure(a, world.ads.get(world.ads.size() - 1), NOW - 20 * MINUTE, false);
        world.recordExposure(b, campaign.get(1), NOW - 20 * MINUTE, false);
        for (User u : List.of(a, b)) {
            for (int i = 0; i < SyntheticWorld.ALIGNED_PER_SIDE; i++) {
                world.recordExposure(u, world.ads.get(10 + i), NOW - (15 - i) * MINUTE, false);
            }
            world.recordExposure(u, clicked, NOW - 5 * MINUTE, true);
        }
        assertThat(world.clickInterest(a, campaign.get(1), NOW)).isEqualTo(world.clickInterest(b, campaign.get(1), NOW));
        // A sixth unclick after the click would be aligned, and it changes the term.
        world.recordExposure(a, campaign.get(1), NOW - 4 * MINUTE, false);
        assertThat(world.clickInterest(a, campaign.get(1), NOW)).isNotEqualTo(world.clickInterest(b, campaign.get(1), NOW));
    }

    @Test
    void exposuresAfterTheMomentAndClicksBeyondTheHorizonChangeNothing() {
        List<Ad> campaign = campaignWithAtLeast(2);
        Ad target = campaign.get(1);
        double before = logit(target);
        world.recordExposure(user, campaign.get(0), NOW - SyntheticWorld.FATIGUE_HORIZON_MS - MINUTE, true);
        world.recordExposure(user, campaign.get(0), NOW + MINUTE, true);
        world.recordExposure(user, target, NOW + 2 * MINUTE, false);
        assertThat(logit(target)).isEqualTo(before);
    }

    private double logit(Ad ad) {
        double p = world.trueCtr(user, ad, slot, 1, NOW);
        return Math.log(p / (1 - p));
    }

    private List<Ad> campaignWithAtLeast(int ads) {
        for (Ad first : world.ads) {
            List<Ad> campaign = world.ads.stream().filter(a -> a.campaignId().equals(first.campaignId())).toList();
            if (campaign.size() >= ads) {
                return campaign;
            }
        }
        throw new IllegalStateException("no campaign with " + ads + " ads");
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int d = 0; d < a.length; d++) {
            sum += a[d] * b[d];
        }
        return sum;
    }
}
