package io.refractium.server;

import io.refractium.config.ConfigException;
import io.refractium.config.ConfigNode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Reads a YAML file (snakeyaml-engine, YAML 1.2) into a {@link ConfigNode} tree that keeps each node's line. Scalars
 * stay text; the configuration model gives them their type. A duplicate key, a key that is not a plain value, a
 * syntax error or an empty file is a {@link ConfigException} naming the file and line.
 */
public final class YamlConfig {

    /** The largest file read, in bytes. */
    static final int MAX_BYTES = 4 * 1024 * 1024;

    private YamlConfig() {
    }

    /**
     * Reads a file.
     *
     * @param file the file
     * @return the tree's root, a map
     * @throws IOException when the file cannot be read
     * @throws ConfigException naming the file and line when it is not a YAML map
     */
    public static ConfigNode read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException(file.toString(), "(file)", bytes.length + " bytes (expected: at most "
                    + MAX_BYTES + ")");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(file.toString(), "(file)", "not UTF-8 (expected: a UTF-8 YAML file)");
        }
        return parse(text, file.toString());
    }

    /**
     * Parses YAML text.
     *
     * @param text the YAML
     * @param source the name errors and nodes carry, usually the file name
     * @return the tree's root, a map
     * @throws ConfigException naming the source and line when it is not a YAML map
     */
    public static ConfigNode parse(String text, String source) {
        LoadSettings settings = LoadSettings.builder().setLabel(source).setUseMarks(true)
                .setAllowRecursiveKeys(false).setMaxAliasesForCollections(50).build();
        Optional<Node> root;
        try {
            root = new Compose(settings).composeReader(new StringReader(text));
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().isPresent() ? e.getProblemMark() : e.getContextMark();
            String where = mark.map(m -> source + ":" + (m.getLine() + 1)).orElse(source);
            throw new ConfigException(where, "(yaml)", e.getProblem() + (e.getContext() == null ? ""
                    : " " + e.getContext()));
        } catch (YamlEngineException e) {
            throw new ConfigException(source, "(yaml)", String.valueOf(e.getMessage()));
        }
        if (root.isEmpty()) {
            throw new ConfigException(source, "(file)", "empty (expected: a map with at least listeners and routes)");
        }
        ConfigNode node = convert(root.get(), source, "");
        if (node.kind() != ConfigNode.Kind.MAP) {
            throw new ConfigException(node.where(), "(file)", "a " + node.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " (expected: a map with at least listeners and routes)");
        }
        return node;
    }

    private static int line(Node n) {
        return n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    private static ConfigNode convert(Node n, String source, String path) {
        int line = line(n);
        if (n instanceof ScalarNode) {
            ScalarNode s = (ScalarNode) n;
            String value = Tag.NULL.equals(s.getTag()) ? null : s.getValue();
            return ConfigNode.scalar(value, source, line);
        }
        if (n instanceof SequenceNode) {
            List<ConfigNode> elements = new ArrayList<>();
            List<Node> values = ((SequenceNode) n).getValue();
            for (int i = 0; i < values.size(); i++) {
                elements.add(convert(values.get(i), source, path + "[" + i + "]"));
            }
            return ConfigNode.list(elements, source, line);
        }
        MappingNode m = (MappingNode) n;
        Map<String, ConfigNode> entries = new LinkedHashMap<>();
        Map<String, Integer> lines = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode) || Tag.NULL.equals(k.getTag())) {
                throw new ConfigException(source + ":" + line(k), path.isEmpty() ? "(key)" : path,
                        "a key that is not a plain value (expected: a name)");
            }
            String key = ((ScalarNode) k).getValue();
            String childPath = path.isEmpty() ? key : path + "." + key;
            if (entries.containsKey(key)) {
                throw new ConfigException(source + ":" + line(k), childPath, "given twice, first on line "
                        + lines.get(key) + " (expected: each key once)");
            }
            lines.put(key, line(k));
            entries.put(key, convert(t.getValueNode(), source, childPath));
        }
        return ConfigNode.map(entries, source, line);
    }
}
