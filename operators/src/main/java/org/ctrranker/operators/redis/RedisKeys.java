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

    /** {@code <prefix>:item:{<ad_id>}}: the ad's impression and click counts at its newest tick. */
    public static String item(String prefix, String adId) {
        return prefix + ":item:{" + escape(adId) + "}";
    }

    /** {@code <prefix>:rank:{<auction_id>}}: the scored and ranked candidates of one auction. */
    public static String ranking(String prefix, String auctionId) {
        return prefix + ":rank:{" + escape(auctionId) + "}";
    }

    /** {@code <prefix>:user:{<user_id>}:scores}: the scores of the user's latest scored auction. */
    public static String userScores(String prefix, String userId) {
        return prefix + ":user:{" + escape(userId) + "}:scores";
    }

    /** {@code <prefix>:model:{<name>}:current}: the live version of a model and its metrics. */
    public static String modelCurrent(String prefix, String modelName) {
        return prefix + ":model:{" + escape(modelName) + "}:current";
    }

    /** {@code <prefix>:model:{<name>}:v<version>}: one published version's metadata. */
    public static String modelVersion(String prefix, String modelName, long version) {
        return prefix + ":model:{" + escape(modelName) + "}:v" + version;
    }

    /**
     * {@code <prefix>:model:{<name>}:parameters:v<version>}: that version's parameters, a hash of slices (outside
     * {@link #modelVersionPattern}).
     */
    public static String modelParameters(String prefix, String modelName, long version) {
        return prefix + ":model:{" + escape(modelName) + "}:parameters:v" + version;
    }

    /** A SCAN pattern matching every {@link #modelVersion} key of a model (glob characters in the name escaped). */
    public static String modelVersionPattern(String prefix, String modelName) {
        return (prefix + ":model:{" + escape(modelName) + "}:v").replaceAll("([*?\\[\\]\\\\])", "\\\\$1") + "*";
    }

    static String escape(String id) {
        if (id.indexOf('{') < 0 && id.indexOf('}') < 0 && id.indexOf('%') < 0) {
            return id;
        }
        return id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D");
    }
}
