package jp.kiroku.platform;

/** What this process is: the server, or an admin command (property {@code kiroku.runtime.role}). */
public enum ProcessRole {
    SERVE, ADMIN
}
