package jp.kiroku.crypto;

/**
 * The master key that wraps data keys and never enters the database (issue 7). The default keeps it in a PKCS#12 key
 * store ({@link KeyStoreMasterKey}); a KMS or HSM can take its place by implementing this interface.
 */
public interface KeyProvider {

    /** Which master key wraps new data keys (recorded with each wrapped key, for rotation). */
    String masterKeyId();

    /** Encrypts a data key for storage; {@code context} binds it to its owner, so it unwraps for that owner only. */
    byte[] wrap(byte[] dataKey, String context);

    /** The data key, or an {@link IllegalStateException} when it was not wrapped by this master key for this owner. */
    byte[] unwrap(byte[] wrapped, String context);
}
