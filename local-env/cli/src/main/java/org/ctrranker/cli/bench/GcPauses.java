package org.ctrranker.cli.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The stop-the-world collections of this JVM (the job's, in the mini cluster) while the latency run lasts, from the
 * collectors' notifications. Every task of the job stops during one, so the latency report says how many of its
 * slowest auctions were in flight across a pause: the part of the tail that is the collector's, not the pipeline's.
 */
final class GcPauses implements AutoCloseable {

    /** One collection, wall-clock ms. */
    record Pause(long startMs, long durationMs, String collector) {
        long endMs() {
            return startMs + durationMs;
        }
    }

    private final long jvmStartMs = ManagementFactory.getRuntimeMXBean().getStartTime();
    private final List<Pause> pauses = new ArrayList<>();
    private final Map<NotificationEmitter, NotificationListener> listening = new LinkedHashMap<>();

    private GcPauses() {}

    /** Starts recording the collectors' pauses. */
    static GcPauses record() {
        GcPauses recorder = new GcPauses();
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (bean instanceof NotificationEmitter emitter && countsPauses(bean.getName())) {
                NotificationListener listener = (notification, handback) -> {
                    if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                        GarbageCollectionNotificationInfo info =
                                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                        recorder.add(new Pause(recorder.jvmStartMs + info.getGcInfo().getStartTime(),
                                info.getGcInfo().getDuration(), info.getGcName()));
                    }
                };
                emitter.addNotificationListener(listener, null, null);
                recorder.listening.put(emitter, listener);
            }
        }
        return recorder;
    }

    private synchronized void add(Pause pause) {
        pauses.add(pause);
    }

    /**
     * False for the beans of ZGC's and Shenandoah's cycles ("ZGC Cycles", "Shenandoah Cycles"), which run beside the
     * application: their durations are not pauses. Their pause beans ("ZGC Pauses", "Shenandoah Pauses") are.
     */
    static boolean countsPauses(String collectorBean) {
        return !collectorBean.endsWith(" Cycles");
    }

    synchronized List<Pause> pauses() {
        return List.copyOf(pauses);
    }

    /**
     * The pauses and, of the auctions at or above the p99 latency, how many were in flight (sent, not yet in Redis)
     * while one ran.
     *
     * @param inFlight per auction: sent and seen, wall-clock ms
     */
    static Map<String, Object> summary(List<Pause> pauses, List<long[]> inFlight, long p99Ms) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pauses", pauses.size());
        out.put("total_ms", pauses.stream().mapToLong(Pause::durationMs).sum());
        out.put("max_ms", pauses.stream().mapToLong(Pause::durationMs).max().orElse(0));
        out.put("over_20_ms", pauses.stream().filter(p -> p.durationMs() > 20).count());
        long tail = 0;
        long tailAcrossPause = 0;
        for (long[] auction : inFlight) {
            if (auction[1] - auction[0] < p99Ms) {
                continue;
            }
            tail++;
            for (Pause p : pauses) {
                if (p.startMs() < auction[1] && p.endMs() > auction[0]) {
                    tailAcrossPause++;
                    break;
                }
            }
        }
        out.put("tail_auctions", tail);
        out.put("tail_auctions_across_a_pause", tailAcrossPause);
        return out;
    }

    @Override
    public void close() {
        listening.forEach((emitter, listener) -> {
            try {
                emitter.removeNotificationListener(listener);
            } catch (ListenerNotFoundException e) {
                // not registered: nothing to remove
            }
        });
        listening.clear();
    }
}
