package org.ctrranker.models.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;

/**
 * The AM2 head as a market-price predictor on real auctions: trains the full model on the train
 * split, then compares the head's estimates on the test split with predicting each slot's median
 * price from the train split (mean absolute error, same unit as the log).
 */
public final class MarketPriceCheck {

    private MarketPriceCheck() {}

    public static Map<String, Object> run(EvalData data, ModelConfig config, int epochs, int batchSize, long seed) {
        if (!config.am2()) {
            throw new IllegalArgumentException("the market-price check needs AM2 on");
        }
        List<Sample> train = new ArrayList<>();
        data.groups().subList(0, data.testFrom()).forEach(train::addAll);
        List<Sample> test = new ArrayList<>();
        data.groups().subList(data.testFrom(), data.groups().size()).forEach(test::addAll);
        Map<Long, List<Double>> bySlot = new HashMap<>();
        List<Double> all = new ArrayList<>();
        for (Sample s : train) {
            bySlot.computeIfAbsent(s.scenario()[0], k -> new ArrayList<>()).add(s.marketPrice());
            all.add(s.marketPrice());
        }
        double globalMedian = median(all);
        Map<Long, Double> medians = new HashMap<>();
        bySlot.forEach((slot, prices) -> medians.put(slot, median(prices)));
        try (ModelLearner learner = new ModelLearner("full", config.toBuilder().seed(seed).build(), batchSize)) {
            java.util.Random random = new java.util.Random(seed);
            for (int e = 0; e < epochs; e++) {
                java.util.Collections.shuffle(train, random);
                for (int i = 0; i < train.size(); i += batchSize) {
                    learner.model().train(train.subList(i, Math.min(train.size(), i + batchSize)));
                }
            }
            float[] predicted = learner.model().predictMarketPrice(test);
            double modelError = 0;
            double medianError = 0;
            double globalError = 0;
            for (int i = 0; i < test.size(); i++) {
                double truth = test.get(i).marketPrice();
                modelError += Math.abs(predicted[i] - truth);
                medianError += Math.abs(medians.getOrDefault(test.get(i).scenario()[0], globalMedian) - truth);
                globalError += Math.abs(globalMedian - truth);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("am2_mae", round(modelError / test.size()));
            out.put("slot_median_mae", round(medianError / test.size()));
            out.put("global_median_mae", round(globalError / test.size()));
            out.put("market_price_test_rows", test.size());
            return out;
        }
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length == 0 ? 0 : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
