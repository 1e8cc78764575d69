package jp.kiroku.identity;

/**
 * The characters Spring Security's {@code StrictHttpFirewall} allows in header names and values, checked without its
 * regular expressions. The firewall checks a header each time it is read, and the bearer token (~1 KB) is read three
 * times per request: the regular expressions were ~5 % of the server's CPU in the search benchmark
 * (bench/RESULTS.md, 2026-12-07). {@code HeaderTextTest} compares both with the firewall's own rules for every
 * code point.
 */
final class HeaderText {

    private HeaderText() {
    }

    /** Assigned and not a control character: the firewall's {@code [\p{IsAssigned}&&[^\p{IsControl}]]*}. */
    static boolean isAllowedName(String name) {
        return allowed(name, false);
    }

    /** The same, and tab: the firewall's {@code [\p{IsAssigned}&&[[^\p{IsControl}]||\t]]*}. */
    static boolean isAllowedValue(String value) {
        return allowed(value, true);
    }

    private static boolean allowed(String s, boolean tab) {
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) { // printable ASCII, nearly every header character
                i++;
                continue;
            }
            int cp = s.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.UNASSIGNED || type == Character.CONTROL && !(tab && cp == '\t')) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }
}
