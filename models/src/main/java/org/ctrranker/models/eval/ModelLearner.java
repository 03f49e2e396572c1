package org.ctrranker.models.eval;

import java.util.ArrayList;
import java.util.List;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;

/** The DJL model as a learner: labelled samples are buffered into mini-batches of {@code batchSize}. */
public final class ModelLearner implements Learner {

    private final String name;
    private final CtrModel model;
    private final int batchSize;
    private final List<Sample> buffer = new ArrayList<>();

    public ModelLearner(String name, ModelConfig config, int batchSize) {
        this.name = name;
        this.model = CtrModel.create(config);
        this.batchSize = batchSize;
    }

    public CtrModel model() {
        return model;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public float[] predict(List<Sample> samples) {
        return model.predict(samples);
    }

    @Override
    public void train(List<Sample> samples) {
        buffer.addAll(samples);
        if (buffer.size() >= batchSize) {
            flush();
        }
    }

    @Override
    public int batchHint() {
        return batchSize - buffer.size();
    }

    @Override
    public void flush() {
        if (!buffer.isEmpty()) {
            model.train(buffer);
            buffer.clear();
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
