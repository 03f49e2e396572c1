package org.ctrranker.operators.serde;

import java.io.IOException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Another serializer's format, for values that are never changed once they are in state: {@link #copy} hands
 * out the value itself. Flink copies operator state on the task's thread at every checkpoint, before writing
 * it out asynchronously; for model parameters (megabytes per value) that copy stalled the task and left
 * garbage that G1 collects stop-the-world. An operator may use it only if it puts fresh objects into the state
 * and never changes them afterwards. State written with the wrapped serializer alone restores as it was.
 */
public final class SharedValueSerializer<T> extends TypeSerializer<T> {

    private static final long serialVersionUID = 1L;

    private final TypeSerializer<T> format;

    public SharedValueSerializer(TypeSerializer<T> format) {
        this.format = format;
    }

    /** Shares values of the Avro record {@code type} in the format {@link AvroTypeInfo} writes. */
    public static <T extends SpecificRecord> SharedValueSerializer<T> of(RuntimeContext context, Class<T> type) {
        return new SharedValueSerializer<>(context.createSerializer(AvroTypeInfo.forRecord(type)));
    }

    TypeSerializer<T> format() {
        return format;
    }

    /** Lets list copies share the elements as well. */
    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        TypeSerializer<T> duplicate = format.duplicate();
        return duplicate == format ? this : new SharedValueSerializer<>(duplicate);
    }

    @Override
    public T createInstance() {
        return format.createInstance();
    }

    @Override
    public T copy(T from) {
        return from;
    }

    @Override
    public T copy(T from, T reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return format.getLength();
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        format.serialize(record, target);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        return format.deserialize(source);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return format.deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        format.copy(source, target);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SharedValueSerializer<?> other && format.equals(other.format);
    }

    @Override
    public int hashCode() {
        return format.hashCode() * 31 + 1;
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new Snapshot<>(this);
    }

    /** The wrapped serializer's snapshot, nested. */
    public static final class Snapshot<T> extends CompositeTypeSerializerSnapshot<T, SharedValueSerializer<T>> {

        /** For Flink's reflective instantiation on restore. */
        public Snapshot() {}

        Snapshot(SharedValueSerializer<T> serializer) {
            super(serializer);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            return 1;
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(SharedValueSerializer<T> outer) {
            return new TypeSerializer<?>[] {outer.format()};
        }

        @Override
        @SuppressWarnings("unchecked")
        protected SharedValueSerializer<T> createOuterSerializerWithNestedSerializers(TypeSerializer<?>[] nested) {
            return new SharedValueSerializer<>((TypeSerializer<T>) nested[0]);
        }

        /** State written before the wrapper (by the wrapped serializer alone) has the same bytes: judge it by the format. */
        @Override
        @SuppressWarnings("unchecked")
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
            if (old instanceof Snapshot<?>) {
                return super.resolveSchemaCompatibility(old);
            }
            TypeSerializerSnapshot<T> format = (TypeSerializerSnapshot<T>) getNestedSerializerSnapshots()[0];
            TypeSerializerSchemaCompatibility<T> compatibility = format.resolveSchemaCompatibility(old);
            if (compatibility.isCompatibleWithReconfiguredSerializer()) {
                return TypeSerializerSchemaCompatibility.compatibleWithReconfiguredSerializer(
                        new SharedValueSerializer<>(compatibility.getReconfiguredSerializer()));
            }
            return compatibility;
        }
    }
}
