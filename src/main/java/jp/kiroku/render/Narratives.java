package jp.kiroku.render;

import java.util.Map;
import java.util.Set;

import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * A resource's narrative ({@code text.div}) made safe to print: it comes from whoever wrote the resource, so only
 * harmless structure passes — text, paragraphs, lists, tables, emphasis. Scripts and styles go with their content;
 * event handlers, styles, classes, links and images (which could fetch from elsewhere while rendering) are dropped;
 * unknown elements give way to their content. Rebuilt from HAPI's parsed tree, so the output is always well-formed.
 */
final class Narratives {

    private static final Set<String> KEPT = Set.of("p", "br", "div", "span", "b", "i", "em", "strong", "u", "small",
            "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
            "caption", "pre", "code", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6");
    /** Elements whose content is not text for a reader either. */
    private static final Set<String> DROPPED = Set.of("script", "style", "object", "embed", "iframe", "frame", "frameset",
            "applet", "noscript", "template", "svg", "math", "head", "title", "meta", "link", "base", "form", "input",
            "button", "select", "textarea");
    private static final Set<String> ATTRIBUTES = Set.of("colspan", "rowspan");
    private static final int DEPTH = 40;

    private Narratives() {
    }

    /** The narrative as safe XHTML, or empty when it has no text to show. */
    static String safe(XhtmlNode div) {
        StringBuilder out = new StringBuilder();
        children(div, out, 0);
        return out.toString();
    }

    private static void children(XhtmlNode node, StringBuilder out, int depth) {
        if (node.getChildNodes() == null) {
            return;
        }
        for (XhtmlNode child : node.getChildNodes()) {
            node(child, out, depth + 1);
        }
    }

    private static void node(XhtmlNode n, StringBuilder out, int depth) {
        NodeType type = n.getNodeType();
        if (type == NodeType.Text || type == NodeType.CData) {
            out.append(Pdf.escape(n.getContent()));
            return;
        }
        if (type != NodeType.Element || depth > DEPTH) {
            return; // comments, instructions; absurd nesting is not a record's content
        }
        String name = n.getName() == null ? "" : n.getName().toLowerCase(java.util.Locale.ROOT);
        if (DROPPED.contains(name)) {
            return;
        }
        if (name.equals("img")) {
            String alt = n.getAttributes() == null ? null : n.getAttributes().get("alt");
            out.append("[画像").append(alt == null || alt.isBlank() ? "" : ": " + Pdf.escape(alt)).append(']');
            return;
        }
        if (!KEPT.contains(name)) {
            children(n, out, depth);
            return;
        }
        String tag = name.startsWith("h") && name.length() == 2 ? "h4" : name; // headings stay below the printout's own
        out.append('<').append(tag);
        if (n.getAttributes() != null) {
            for (Map.Entry<String, String> a : n.getAttributes().entrySet()) {
                String attr = a.getKey().toLowerCase(java.util.Locale.ROOT);
                if (ATTRIBUTES.contains(attr) && a.getValue() != null && a.getValue().matches("[0-9]{1,3}")) {
                    out.append(' ').append(attr).append("=\"").append(a.getValue()).append('"');
                }
            }
        }
        if (name.equals("br") || name.equals("hr")) {
            out.append("/>");
            return;
        }
        out.append('>');
        children(n, out, depth);
        out.append("</").append(tag).append('>');
    }
}
