package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downtime file and its audit chain on their own (no database, as on the standalone PC): the contents come back
 * whole with the passphrase; a changed header or body byte is refused like a wrong passphrase; the audit chain
 * names the first line that does not hold when lines are swapped.
 */
@Tag("BCP-02")
class DowntimeFileTest {

    private static final char[] PASSPHRASE = "停電時の合言葉-0123".toCharArray();

    @Test
    void opensWholeWithItsPassphraseAndRefusesAnyChangedByte() {
        DowntimeFile.Entry entry = new DowntimeFile.Entry("p1", "山田 太郎", "ヤマダ タロウ", "1950-04-01", "男", "301号室",
                "緊急時サマリー …", new byte[] {37, 80, 68, 70}, "{\"resourceType\":\"Bundle\"}");
        Instant made = Instant.parse("2026-12-07T02:00:00Z");
        byte[] file = DowntimeFile.seal(new DowntimeFile.Contents(made, "3階東病棟", List.of(entry)), PASSPHRASE);

        DowntimeFile.Contents back = DowntimeFile.open(file, PASSPHRASE);
        assertThat(back.created()).isEqualTo(made);
        assertThat(back.scope()).isEqualTo("3階東病棟");
        assertThat(back.patients()).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("山田 太郎");
            assertThat(e.bed()).isEqualTo("301号室");
            assertThat(e.pdf()).containsExactly(37, 80, 68, 70);
            assertThat(e.bundleJson()).isEqualTo("{\"resourceType\":\"Bundle\"}");
        });
        // the salt (header) and a byte of the sealed body
        for (int at : new int[] {file.length - 40, 40}) {
            byte[] changed = file.clone();
            changed[at] ^= 1;
            assertThatThrownBy(() -> DowntimeFile.open(changed, PASSPHRASE)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not open");
        }
        assertThatThrownBy(() -> DowntimeFile.open("not an export".getBytes(), PASSPHRASE))
                .hasMessage("not a Kiroku downtime export");
    }

    @Test
    @Tag("LOG-01")
    void theAuditChainNamesTheFirstLineThatDoesNotHold(@TempDir Path dir) throws Exception {
        Path export = Files.write(dir.resolve("ward.kdt"), new byte[] {1, 2, 3});
        DowntimeAudit.append(export, "list", null);
        DowntimeAudit.append(export, "view", "p1");
        DowntimeAudit.append(export, "pdf", "p1");
        List<DowntimeAudit.Line> lines = DowntimeAudit.verify(DowntimeAudit.of(export));
        assertThat(lines).extracting(DowntimeAudit.Line::action).containsExactly("list", "view", "pdf");
        assertThat(lines.get(0).prev()).as("the chain starts at the export").isEqualTo(DowntimeAudit.sha256(new byte[] {1, 2, 3}));
        assertThat(lines.get(1).prev()).isEqualTo(lines.get(0).hash());

        List<String> text = Files.readAllLines(DowntimeAudit.of(export));
        Path swapped = Files.write(dir.resolve("swapped.jsonl"), List.of(text.get(0), text.get(2), text.get(1)));
        assertThatThrownBy(() -> DowntimeAudit.verify(swapped)).hasMessageContaining("line 2 does not follow");
        Path edited = Files.write(dir.resolve("edited.jsonl"), List.of(text.get(0), text.get(1).replace("\"p1\"", "\"p2\"")));
        assertThatThrownBy(() -> DowntimeAudit.verify(edited)).hasMessageContaining("line 2 was altered");
    }
}
