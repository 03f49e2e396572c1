package org.ctrranker.models;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** Where the model runs: {@code auto} takes a GPU when the PyTorch engine sees one, else the CPU. */
public enum DeviceChoice {
    AUTO, CPU, GPU;

    public static DeviceChoice parse(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> AUTO;
            case "cpu" -> CPU;
            case "gpu" -> GPU;
            default -> throw new IllegalArgumentException("device '" + name + "' is unknown: use auto, cpu or gpu");
        };
    }

    /** The DJL device for this choice; {@code gpu} without a visible GPU is an error naming the fix. */
    public Device resolve() {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        return switch (this) {
            case CPU -> Device.cpu();
            case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
            case GPU -> {
                if (gpus == 0) {
                    throw new IllegalStateException("device gpu: the PyTorch engine sees no GPU (supply a CUDA "
                            + "libtorch via PYTORCH_LIBRARY_PATH, see STACK.md) or use --device auto|cpu");
                }
                yield Device.gpu();
            }
        };
    }
}
