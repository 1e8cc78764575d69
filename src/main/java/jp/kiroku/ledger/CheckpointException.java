package jp.kiroku.ledger;

/** A checkpoint that cannot be trusted: malformed text, a signature that does not verify, or none by the key asked. */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
