package jp.kiroku.search;

import java.util.List;

import jp.kiroku.store.ResourceKey;

/**
 * One page of matches, newest first unless sorted otherwise; {@code total} is null when not requested;
 * {@code ignored} names the parameters left out under lenient handling.
 */
public record SearchResult(List<ResourceKey> keys, Long total, List<String> ignored) {
}
