package jp.kiroku.store;

import java.util.List;

/** Why a write was refused. Nothing of the refused call is stored. */
public class StoreException extends RuntimeException {

    public enum Reason {
        /** If-Match named another version than the current one. */
        VERSION_CONFLICT,
        /** A local reference names a resource that does not exist (or is deleted). */
        UNRESOLVED_REFERENCE,
        /** A delete of a resource that current resources still reference. */
        STILL_REFERENCED,
        /** Two writes to the same resource in one call, or a create of an existing id. */
        DUPLICATE,
        /** An update or delete of a confirmed record (INTEG-02) that gives no reason. */
        CONFIRMED_NEEDS_REASON
    }

    private final Reason reason;
    private final List<ResourceKey> resources;

    public StoreException(Reason reason, String message, List<ResourceKey> resources) {
        super(message);
        this.reason = reason;
        this.resources = List.copyOf(resources);
    }

    public Reason reason() {
        return reason;
    }

    public List<ResourceKey> resources() {
        return resources;
    }
}
