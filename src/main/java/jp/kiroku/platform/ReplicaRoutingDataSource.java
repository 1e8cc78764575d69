package jp.kiroku.platform;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.springframework.jdbc.datasource.AbstractDataSource;

import com.zaxxer.hikari.HikariDataSource;

/**
 * The application's DataSource when a read replica is configured: primary connections, except on a thread inside
 * {@link ReadReplica#read} (which decided that the replica is fresh enough). Spring's transactions bind one connection
 * per thread when they begin, so a transaction begun outside a replica read stays on the primary throughout.
 */
final class ReplicaRoutingDataSource extends AbstractDataSource implements AutoCloseable {

    private final HikariDataSource primary;
    private final HikariDataSource replica;

    ReplicaRoutingDataSource(HikariDataSource primary, HikariDataSource replica) {
        this.primary = primary;
        this.replica = replica;
    }

    HikariDataSource primary() {
        return primary;
    }

    HikariDataSource replica() {
        return replica;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return ReadReplica.routedToReplica() ? replica.getConnection() : primary.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLException("Kiroku's DataSource hands out connections of its configured roles only");
    }

    @Override
    public void close() {
        try {
            replica.close();
        } finally {
            primary.close();
        }
    }
}
