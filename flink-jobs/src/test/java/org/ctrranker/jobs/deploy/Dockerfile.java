package org.ctrranker.jobs.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The instructions of a Dockerfile, read as text: there is no Docker engine in the build, so the tests check the
 * image definition by what it says (base image, where jars go, environment) against the manifests.
 */
record Dockerfile(List<Instruction> instructions) {

    record Instruction(String keyword, String arguments) {}

    private static final Pattern KEY_VALUE = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)");

    static Dockerfile parse(Path file) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : DeployLayout.readText(file).split("\n", -1)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continues) {
                String text = current.toString().strip();
                current.setLength(0);
                if (!text.isEmpty()) {
                    int space = text.indexOf(' ');
                    instructions.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
                }
            }
        }
        return new Dockerfile(List.copyOf(instructions));
    }

    List<String> all(String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
    }

    /** The image of the last FROM, i.e. the stage that becomes the image. */
    String finalBaseImage() {
        List<String> froms = all("FROM");
        return froms.get(froms.size() - 1).split("\\s+")[0];
    }

    /** ENV and ARG defaults as written ({@code KEY=value} pairs, quotes removed). */
    Map<String, String> env() {
        return keyValues("ENV");
    }

    Map<String, String> argDefaults() {
        return keyValues("ARG");
    }

    private Map<String, String> keyValues(String keyword) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String arguments : all(keyword)) {
            Matcher matcher = KEY_VALUE.matcher(arguments);
            while (matcher.find()) {
                values.put(matcher.group(1), matcher.group(2).replace("\"", ""));
            }
        }
        return values;
    }

    /** COPY instructions as source to destination, flags (--chown, --from) removed. */
    Map<String, String> copies() {
        Map<String, String> copies = new LinkedHashMap<>();
        for (String arguments : all("COPY")) {
            List<String> words = new ArrayList<>(List.of(arguments.split("\\s+")));
            words.removeIf(word -> word.startsWith("--"));
            copies.put(words.get(0), words.get(words.size() - 1));
        }
        return copies;
    }
}
