package jp.kiroku.store;

/** A resource's identity: type and logical id. */
public record ResourceKey(String type, String id) {
    @Override
    public String toString() {
        return type + "/" + id;
    }
}
