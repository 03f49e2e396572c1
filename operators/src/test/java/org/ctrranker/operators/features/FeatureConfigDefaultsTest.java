package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.ctrranker.models.eval.OnlineFeaturizer;
import org.junit.jupiter.api.Test;

/** The config objects' defaults are the ones the job's defaults file documents, key by key. */
class FeatureConfigDefaultsTest {

    @Test
    void feedbackDefaultsMatchTheDocumentedOnes() throws IOException {
        Properties documented = documentedDefaults();
        FeedbackConfig fromFile = FeedbackConfig.fromProperties(documented);
        FeedbackConfig builtIn = FeedbackConfig.defaults();
        assertThat(documented).containsKeys(FeedbackConfig.MAX_CLICKS, FeedbackConfig.UNCLICKS_PER_SIDE,
                FeedbackConfig.MAX_OPEN_EXPOSURES, FeedbackConfig.FATIGUE_EXPOSURES, FeedbackConfig.USER_IDLE_TIMEOUT_MS, FeedbackConfig.STATE_TTL_MS,
                FeedbackConfig.REDIS_TTL_MS, FeedbackConfig.MIRROR_INTERVAL_MS, FeedbackConfig.ATTRIBUTION_WINDOW_MS, FeedbackConfig.REDIS_KEY_PREFIX);
        assertThat(fromFile).usingRecursiveComparison().isEqualTo(builtIn);
        assertThat(builtIn.fatigueExposures()).as("the fatigue features as evaluate counts them")
                .isEqualTo(OnlineFeaturizer.RECENT_EXPOSURES);
        assertThat(FeedbackConfig.FATIGUE_HORIZON_MS).isEqualTo(OnlineFeaturizer.HORIZON_MS);
    }

    @Test
    void aieDefaultsMatchTheDocumentedOnes() throws IOException {
        Properties documented = documentedDefaults();
        assertThat(documented).containsKeys(AieConfig.SKETCH_K, AieConfig.WINDOW_MS, AieConfig.MIN_SAMPLES,
                AieConfig.MIN_POSITIVES, AieConfig.MARKET_PRICE_Z_CLIP, AieConfig.BCM_BETA, AieConfig.BCM_MIN_WEIGHT,
                AieConfig.BCM_MAX_WEIGHT, AieConfig.PUBLISH_INTERVAL_MS, AieConfig.REDIS_TTL_MS);
        assertThat(AieConfig.fromProperties(documented)).usingRecursiveComparison().isEqualTo(AieConfig.defaults());
        java.util.Map<String, String> settings = new java.util.TreeMap<>();
        documented.stringPropertyNames().forEach(k -> settings.put(k, documented.getProperty(k)));
        settings.put(AieConfig.SKETCH_K, "400");
        assertThat(AieConfig.fromSettings(settings).sketchK()).isEqualTo(400);
        assertThat(FeedbackConfig.fromSettings(settings)).usingRecursiveComparison().isEqualTo(FeedbackConfig.defaults());
    }

    @Test
    void settingsThatCannotWorkAreRefused() {
        assertThatThrownBy(() -> FeedbackConfig.builder().fatigueExposures(0).build())
                .hasMessageContaining(FeedbackConfig.FATIGUE_EXPOSURES);
        assertThatThrownBy(() -> FeedbackConfig.builder().attributionWindowMs(10).userIdleTimeoutMs(5).build())
                .hasMessageContaining("idle timeout");
        assertThatThrownBy(() -> FeedbackConfig.builder().unclicksPerSide(0).build()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AieConfig.builder().bcmMinWeight(2).build()).hasMessageContaining("BCM clip");
        assertThatThrownBy(() -> AieConfig.builder().sketchK(4).build()).hasMessageContaining("KLL k");
    }

    private static Properties documentedDefaults() throws IOException {
        String root = System.getProperty("ctr.root", System.getProperty("user.dir") + "/..");
        Path file = Path.of(root, "flink-jobs/src/main/resources/ctr-ranker-defaults.properties");
        assumeTrue(Files.isReadable(file), "defaults file not found: " + file);
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        }
        return p;
    }
}
