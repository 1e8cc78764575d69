package jp.kiroku.search;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import jp.kiroku.crypto.BlindIndex;

/**
 * The one place where token, string and uri values (and quantity units) become what the index stores and compares:
 * keyed hashes ({@link BlindIndex}). Writes store one hash; searches compare with one hash per key generation in use.
 * Prefix search cannot compare hashes by prefix, so a string is stored with the hashes of all its normalised
 * prefixes (up to {@link #PREFIX_LIMIT} characters) and a uri with those of its prefixes that end a path segment;
 * these are scoped to the type and parameter, so that one short prefix does not match every string in the index.
 */
final class IndexValues {

    /** Longest normalised prefix a string search can match (in characters); longer values are stored cut to it. */
    static final int PREFIX_LIMIT = 40;

    private final BlindIndex blind;

    IndexValues(BlindIndex blind) {
        this.blind = blind;
    }

    /** A token, a system, an :exact string, a whole uri or a unit, as stored. */
    String stored(String value) {
        return value == null ? null : blind.hash(value);
    }

    /** What a search compares a stored value with. */
    String[] searched(String value) {
        return blind.hashes(value);
    }

    /** The stored prefixes of a normalised string: one hash for each of its first 1..40 characters. */
    String[] prefixes(String scope, String normalised) {
        if (normalised == null) {
            return null;
        }
        int[] cps = normalised.codePoints().limit(PREFIX_LIMIT).toArray();
        String[] out = new String[cps.length];
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < cps.length; i++) {
            prefix.appendCodePoint(cps[i]);
            out[i] = blind.hash(scope + '\u0000' + prefix);
        }
        return out;
    }

    /** What a prefix search compares with the stored prefixes; refused beyond the stored length. */
    String[] searchedPrefix(String scope, String normalised, String asked) {
        if (normalised.codePointCount(0, normalised.length()) > PREFIX_LIMIT) {
            throw new SearchException("'" + asked + "' is longer than the " + PREFIX_LIMIT + " characters a string search"
                    + " can match (the index keeps keyed hashes of prefixes up to that length); search by its first "
                    + PREFIX_LIMIT + " characters, or use :exact for the whole value");
        }
        return blind.hashes(scope + '\u0000' + normalised);
    }

    /** The stored path prefixes of a uri: every prefix that ends with '/'. */
    String[] uriPrefixes(String scope, String uri) {
        List<String> out = new ArrayList<>();
        for (int i = uri.indexOf('/'); i >= 0; i = uri.indexOf('/', i + 1)) {
            out.add(blind.hash(scope + '\u0000' + uri.substring(0, i + 1)));
        }
        return out.toArray(String[]::new);
    }

    /** uri:below — the stored prefix hashes that mark a uri as being {@code value}/... (value ending a path segment). */
    String[] searchedUriBelow(String scope, String value) {
        return blind.hashes(scope + '\u0000' + (value.endsWith("/") ? value : value + "/"));
    }

    /** uri:above — the whole uris a stored one may be: the value and each of its path prefixes, with and without '/'. */
    String[] searchedUriAbove(String value) {
        Set<String> candidates = new LinkedHashSet<>();
        for (int i = value.indexOf('/'); i >= 0; i = value.indexOf('/', i + 1)) {
            candidates.add(value.substring(0, i));
            candidates.add(value.substring(0, i + 1));
        }
        candidates.add(value);
        List<String> out = new ArrayList<>();
        for (String c : candidates) {
            if (!c.isEmpty()) {
                out.addAll(List.of(blind.hashes(c)));
            }
        }
        return out.toArray(String[]::new);
    }
}
