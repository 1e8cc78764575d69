package jp.kiroku.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** The embedded cluster takes its memory setting from kiroku.db.shared-buffers, on every start. */
class EmbeddedDatabaseTest {

    private static String sharedBuffers(EmbeddedDatabase db) throws Exception {
        ConnectionInfo c = db.connection();
        try (var con = DriverManager.getConnection(c.url(), c.user(), c.password());
             var rs = con.createStatement().executeQuery("SHOW shared_buffers")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void sharedBuffersFollowTheSetting() throws Exception {
        Path dir = Files.createTempDirectory("kiroku-embedded-");
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(32))) {
            assertThat(sharedBuffers(db)).isEqualTo("32MB");
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, DataSize.ofMegabytes(48))) {
            assertThat(sharedBuffers(db)).isEqualTo("48MB");
        }
        assertThatThrownBy(() -> EmbeddedDatabase.start(dir, DataSize.ofMegabytes(8)))
                .hasMessageContaining("kiroku.db.shared-buffers");
    }
}
