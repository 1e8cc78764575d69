package jp.kiroku.platform;

/** Where and as whom to reach the database. Its {@code toString} never shows the password. */
public record ConnectionInfo(String url, String user, String password) {
    @Override
    public String toString() {
        return "ConnectionInfo[url=" + url + ", user=" + user + "]";
    }
}
