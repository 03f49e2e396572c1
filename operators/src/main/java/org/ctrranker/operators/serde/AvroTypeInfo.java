package org.ctrranker.operators.serde;

import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Flink type information for the project's Avro records: state and network bytes are the Avro
 * binary encoding, and restored state written with an older schema is read through Avro schema
 * resolution. (flink-avro pins an older Avro than the one the schemas are generated with.)
 */
public final class AvroTypeInfo<T extends SpecificRecord> extends TypeInformation<T> {

    private static final long serialVersionUID = 1L;

    private final Class<T> type;

    private AvroTypeInfo(Class<T> type) {
        this.type = Objects.requireNonNull(type);
    }

    public static <T extends SpecificRecord> AvroTypeInfo<T> forRecord(Class<T> type) {
        return new AvroTypeInfo<>(type);
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new AvroSerializer<>(type);
    }

    @Override
    public String toString() {
        return "Avro<" + type.getName() + ">";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroTypeInfo<?> other && other.type.equals(type);
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof AvroTypeInfo;
    }
}
