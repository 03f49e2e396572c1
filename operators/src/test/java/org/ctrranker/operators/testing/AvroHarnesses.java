package org.ctrranker.operators.testing;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.operators.serde.AvroTypeInfo;

/**
 * Operator test harnesses for functions that emit Avro records. The stock factories derive the
 * output serializer by reflection, which would need flink-avro; these set the project's own.
 */
public final class AvroHarnesses {

    private AvroHarnesses() {}

    public static <IN1, IN2, OUT extends SpecificRecord> KeyedTwoInputStreamOperatorTestHarness<String, IN1, IN2, OUT>
            keyedCo(KeyedCoProcessFunction<String, IN1, IN2, OUT> function, KeySelector<IN1, String> key1,
                    KeySelector<IN2, String> key2, Class<OUT> outputType) throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, IN1, IN2, OUT> harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(function), key1, key2, Types.STRING);
        harness.setup(AvroTypeInfo.forRecord(outputType).createSerializer(new SerializerConfigImpl()));
        harness.open();
        return harness;
    }
}
