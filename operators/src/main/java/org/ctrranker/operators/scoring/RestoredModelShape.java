package org.ctrranker.operators.scoring;

import org.ctrranker.models.CtrModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model state restored from a checkpoint or savepoint against the model this build and settings make. State of
 * another shape (a build whose model takes other inputs, or changed {@code ctr.model.*}) cannot load; the job refuses
 * it, naming the way out, unless {@link OnlineConfig#resetModelOnShapeChange} says to drop it: the trainer then starts
 * from the initial weights with its version numbers going on, the scorers serve the initial weights until its next
 * live version, and the rest of the job's state (joins, user feedback, item counts) is kept.
 */
final class RestoredModelShape {

    private static final Logger LOG = LoggerFactory.getLogger(RestoredModelShape.class);

    private RestoredModelShape() {}

    /**
     * Whether {@code restored} ({@code what} it is, for the messages) loads into the model {@code config} makes; false
     * when it is of another shape and the settings allow dropping it.
     *
     * @throws IllegalStateException when it is of another shape and they do not
     */
    static boolean fits(byte[] restored, String what, OnlineConfig config) {
        String shape = CtrModel.shapeOf(restored);
        String expected = config.modelConfig().shapeKey();
        if (shape == null || shape.equals(expected)) {
            return true; // the model's own restore names any other problem
        }
        if (!config.resetModelOnShapeChange()) {
            throw new IllegalStateException(what + " in the restored state is of a model shaped " + shape
                    + ", this build and settings make " + expected + ": restore with the build and ctr.model.* it"
                    + " was made with, or set " + OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE
                    + "=true to start the model afresh and keep the rest of the state");
        }
        LOG.warn("{} in the restored state is of a model shaped {}, this build and settings make {}: dropped ({}=true)",
                what, shape, expected, OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE);
        return false;
    }
}
