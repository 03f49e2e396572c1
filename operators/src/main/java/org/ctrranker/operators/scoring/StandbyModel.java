package org.ctrranker.operators.scoring;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.ctrranker.models.CtrModel;
import org.ctrranker.operators.runtime.BackgroundPriority;

/**
 * A scorer's second model, into which the newest model version is restored on a thread of its own as soon as
 * it arrives. A version reaches the scorer about {@code ctr.scoring.state-lag-ms} before the first auction it
 * scores, so the swap is then a change of reference instead of a restore of the version's parameters (10 MB
 * with the job's model, 20 to 40 ms) on the scoring thread while a micro-batch waits.
 *
 * <p>Used from the scorer's task thread only; the loader thread touches nothing but the model it was handed.
 */
final class StandbyModel implements AutoCloseable {

    private final ExecutorService loader;
    private CtrModel model;
    /** Version the last load queued puts into {@link #model}, or that it held when swapped in; -1 when unknown. */
    private long version = -1;
    private Future<?> loading;

    /** {@code loaderPriority}: the loader thread's {@link BackgroundPriority} level; 0 for normal priority. */
    StandbyModel(CtrModel model, String loaderThreadName, int loaderPriority) {
        this.model = model;
        this.loader = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(() -> {
                BackgroundPriority.lowerCurrentThread(loaderPriority);
                task.run();
            }, loaderThreadName);
            thread.setDaemon(true);
            return thread;
        });
        // Pays the first calls' allocations here, not in the micro-batch that first uses the model.
        this.loading = loader.submit(model::warmUp);
    }

    /** Queues a restore of {@code update} into the standby, after any load already queued. */
    void load(ModelUpdate update) {
        CtrModel target = model;
        loading = loader.submit(() -> target.restore(update.parameters));
        version = update.version;
    }

    /** Version the standby holds or is loading, -1 when none. */
    long version() {
        return version;
    }

    /**
     * If the standby holds or is loading {@code wanted}: waits for the load, hands the loaded model out and keeps
     * {@code active}, which holds {@code activeVersion}, as the next standby (so a micro-batch that goes back to
     * that version, an auction due before the swap, is a swap too). Otherwise null, and nothing changes.
     */
    CtrModel swapIfHolding(long wanted, CtrModel active, long activeVersion) {
        if (version != wanted) {
            return null;
        }
        awaitLoading();
        CtrModel ready = model;
        model = active;
        version = activeVersion;
        return ready;
    }

    private void awaitLoading() {
        try {
            loading.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for model version " + version + " to load", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("loading model version " + version + " failed", e.getCause());
        }
    }

    /** Waits for a running load (a model must not be closed under it), then closes the standby model. */
    @Override
    public void close() throws InterruptedException {
        loader.shutdownNow();
        if (!loader.awaitTermination(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a model version was still loading 60 s after the scorer closed");
        }
        model.close();
    }
}
