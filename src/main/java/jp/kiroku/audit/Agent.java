package jp.kiroku.audit;

/**
 * Who acted: a system client, a person, or the local operator running an admin command (OS user).
 * {@code address} is the network source, or the host for the local operator.
 */
public record Agent(Kind kind, String id, String address) {

    public enum Kind {
        CLIENT, USER, OPERATOR, ANONYMOUS;

        public String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The person at this machine's shell; possession of the host account is the authentication, as with pg_ctl. */
    public static Agent localOperator() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return new Agent(Kind.OPERATOR, System.getProperty("user.name", "unknown"), host);
    }
}
