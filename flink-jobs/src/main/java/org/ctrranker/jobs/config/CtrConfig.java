package org.ctrranker.jobs.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The job's settings: the defaults file {@value #DEFAULTS_RESOURCE}, then an optional properties
 * file, then {@code key=value} overrides. Unknown keys and malformed values are rejected with a
 * message naming the key, so a typo never silently falls back to a default. Immutable.
 */
public final class CtrConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String DEFAULTS_RESOURCE = "ctr-ranker-defaults.properties";

    private final Map<String, String> values;

    private CtrConfig(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    public static CtrConfig defaults() {
        return load(null, Map.of());
    }

    /** @param file a properties file overriding the defaults, or null */
    public static CtrConfig load(Path file, Map<String, String> overrides) {
        Map<String, String> values = new TreeMap<>(defaultValues());
        if (file != null) {
            Properties fromFile = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                fromFile.load(reader);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the config file " + file + ": " + e.getMessage(), e);
            }
            fromFile.stringPropertyNames().forEach(k -> put(values, k, fromFile.getProperty(k), file.toString()));
        }
        overrides.forEach((k, v) -> put(values, k, v, "--set"));
        return new CtrConfig(values);
    }

    /** Reads {@code --config FILE} and repeated {@code --set key=value} from job arguments; others are rejected. */
    public static CtrConfig fromArgs(String[] args) {
        Path file = null;
        Map<String, String> overrides = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ((arg.equals("--config") || arg.equals("--set")) && i + 1 >= args.length) {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            if (arg.equals("--config")) {
                file = Path.of(args[++i]);
            } else if (arg.equals("--set")) {
                String pair = args[++i];
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--set '" + pair + "' must be key=value");
                }
                overrides.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            } else {
                throw new IllegalArgumentException("unknown job argument '" + arg + "': use --config FILE and --set key=value");
            }
        }
        return load(file, overrides);
    }

    public CtrConfig with(String key, String value) {
        Map<String, String> copy = new TreeMap<>(values);
        put(copy, key, value, "with");
        return new CtrConfig(copy);
    }

    public String string(String key) {
        String value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException("unknown setting '" + key + "'");
        }
        return value;
    }

    public long longValue(String key) {
        String value = string(key);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value + " is not a whole number");
        }
    }

    public double doubleValue(String key) {
        String value = string(key);
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value + " is not a number");
        }
    }

    public Map<String, String> asMap() {
        return values;
    }

    public static Map<String, String> defaultValues() {
        Properties defaults = new Properties();
        try (InputStream in = CtrConfig.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(DEFAULTS_RESOURCE + " is missing from the classpath");
            }
            defaults.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> map = new TreeMap<>();
        defaults.stringPropertyNames().forEach(k -> map.put(k, defaults.getProperty(k).trim()));
        return map;
    }

    private static void put(Map<String, String> values, String key, String value, String origin) {
        if (!values.containsKey(key)) {
            List<String> close = new ArrayList<>();
            for (String known : values.keySet()) {
                if (known.startsWith(key.substring(0, Math.min(key.length(), key.lastIndexOf('.') + 1)))) {
                    close.add(known);
                }
            }
            throw new IllegalArgumentException("unknown setting '" + key + "' (from " + origin + "): see "
                    + DEFAULTS_RESOURCE + " for the settings" + (close.isEmpty() ? "" : ", e.g. " + close.subList(0, Math.min(3, close.size()))));
        }
        values.put(key, value.trim());
    }
}
