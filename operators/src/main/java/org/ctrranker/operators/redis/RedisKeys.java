package org.ctrranker.operators.redis;

/**
 * Names of the keys this project writes (the layout is documented in operators/REDIS-KEYS.md). The
 * entity id sits in a hash tag {...} so Redis Cluster keeps all keys of one entity on one slot; braces
 * and '%' inside an id are percent-encoded so an id can never end the tag early.
 */
public final class RedisKeys {

    private RedisKeys() {}

    /** {@code <prefix>:user:{<user_id>}:feedback}: the user's aligned click/unclick state. */
    public static String userFeedback(String prefix, String userId) {
        return prefix + ":user:{" + escape(userId) + "}:feedback";
    }

    /** {@code <prefix>:market:{<scenario>}}: market-price and bid statistics of one auction scenario. */
    public static String market(String prefix, String scenario) {
        return prefix + ":market:{" + escape(scenario) + "}";
    }

    static String escape(String id) {
        if (id.indexOf('{') < 0 && id.indexOf('}') < 0 && id.indexOf('%') < 0) {
            return id;
        }
        return id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D");
    }
}
