package jp.kiroku.platform;

/** A TLS setting that cannot work (a missing file, two certificates, an unknown client-auth); its message says which. */
public class TlsSettingsException extends IllegalStateException {
    public TlsSettingsException(String message) {
        super(message);
    }
}
