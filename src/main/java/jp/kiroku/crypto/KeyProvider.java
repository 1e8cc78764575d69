package jp.kiroku.crypto;

import java.util.List;

/**
 * The master key that wraps data keys and never enters the database (issue 7). The default keeps it in a PKCS#12 key
 * store ({@link KeyStoreMasterKey}); a KMS or HSM can take its place by implementing this interface. A provider holds
 * one or more master keys: the newest wraps, older ones only unwrap until a rotation has re-wrapped everything.
 */
public interface KeyProvider {

    /** Which master key wraps new data keys (recorded with each wrapped key). */
    String masterKeyId();

    /** Encrypts a data key for storage under the current master key; {@code context} binds it to its owner. */
    byte[] wrap(byte[] dataKey, String context);

    /**
     * The data key, or an {@link IllegalStateException} when it was not wrapped by that master key for this owner (or
     * that master key is no longer held).
     */
    byte[] unwrap(byte[] wrapped, String context, String masterKeyId);

    /** Every master key held, oldest first. */
    List<String> masterKeyIds();

    /** Creates a new master key that wraps from now on (in every process sharing the provider); returns its id. */
    String addMasterKey();

    /** Removes an older master key for good (never the current one). */
    void removeMasterKey(String masterKeyId);

    /**
     * Destroys every master key for good (decommissioning the installation): afterwards no data key can be unwrapped
     * and the provider refuses to open again. Returns what was destroyed, for the certificate.
     */
    List<String> destroyAll();

    /**
     * Records, with the master key (not in the database), that a data key was destroyed: a database restored from a
     * backup made before may hold that key wrapped again, and {@link DataKeys} destroys it again at start.
     */
    void recordDestroyed(String keyId);

    /** The ids of every data key recorded as destroyed. */
    java.util.Set<String> destroyedKeyIds();
}
