package jp.kiroku.ledger;

import static jp.kiroku.ledger.CheckpointVerifier.Status.MATCHES;
import static jp.kiroku.ledger.CheckpointVerifier.Status.NOT_REACHED;
import static jp.kiroku.ledger.CheckpointVerifier.Status.ROOT_DIFFERS;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A log streamed against checkpoints signed earlier: tampering before a checkpoint's size fails that checkpoint. */
@Tag("LOG-02")
@Tag("INTEG-03")
class CheckpointVerifierTest {

    static final List<Integer> SIZES = List.of(100, 10, 64, 50);

    static List<Checkpoint> checkpoints(List<byte[]> log, List<Integer> sizes) {
        List<Checkpoint> out = new ArrayList<>();
        for (int size : sizes) {
            out.add(new Checkpoint("kiroku/record", size, Rfc6962.mth(log.subList(0, size)), Instant.EPOCH));
        }
        return out;
    }

    static List<CheckpointVerifier.Status> statuses(List<Checkpoint> trusted, List<byte[]> log) {
        CheckpointVerifier v = new CheckpointVerifier(trusted);
        log.forEach(v::append);
        assertThat(v.size()).isEqualTo(log.size());
        return v.results().stream().map(CheckpointVerifier.Result::status).toList();
    }

    @Test
    void theCtTestLogMatchesItsPublishedRoots() {
        List<Checkpoint> trusted = new ArrayList<>();
        for (int n = 0; n <= 8; n++) {
            trusted.add(new Checkpoint("ct/test", n, Rfc6962.hex(MerkleVectorsTest.ROOTS[n]), Instant.EPOCH));
        }
        CheckpointVerifier v = new CheckpointVerifier(trusted);
        for (byte[] input : MerkleVectorsTest.INPUTS) {
            v.append(Rfc6962.leaf(input));
        }
        assertThat(v.results()).extracting(CheckpointVerifier.Result::status).containsOnly(MATCHES).hasSize(9);
        assertThat(v.allMatch()).isTrue();
    }

    @Test
    void anIntactLogMatchesEveryCheckpointSmallestFirst() {
        List<byte[]> log = StreamingRootTest.randomLeafHashes(100, 7);
        CheckpointVerifier v = new CheckpointVerifier(checkpoints(log, SIZES));
        log.forEach(v::append);
        assertThat(v.results()).extracting(r -> r.checkpoint().size()).containsExactly(10L, 50L, 64L, 100L);
        assertThat(v.results()).extracting(CheckpointVerifier.Result::status).containsOnly(MATCHES);
        assertThat(v.allMatch()).isTrue();
    }

    @Test
    void anAlteredEntryFailsEveryCheckpointThatCoversIt() {
        List<byte[]> log = StreamingRootTest.randomLeafHashes(100, 8);
        List<Checkpoint> trusted = checkpoints(log, SIZES);
        List<byte[]> altered = new ArrayList<>(log);
        byte[] leaf = log.get(30).clone();
        leaf[17] ^= 0x04;
        altered.set(30, leaf);
        assertThat(statuses(trusted, altered)).containsExactly(MATCHES, ROOT_DIFFERS, ROOT_DIFFERS, ROOT_DIFFERS);
    }

    @Test
    void removedInsertedOrReorderedEntriesAreDetected() {
        List<byte[]> log = StreamingRootTest.randomLeafHashes(100, 9);
        List<Checkpoint> trusted = checkpoints(log, SIZES);

        List<byte[]> removed = new ArrayList<>(log);
        removed.remove(60);
        assertThat(statuses(trusted, removed)).containsExactly(MATCHES, MATCHES, ROOT_DIFFERS, NOT_REACHED);

        List<byte[]> inserted = new ArrayList<>(log);
        inserted.add(55, StreamingRootTest.randomLeafHashes(1, 10).get(0));
        assertThat(statuses(trusted, inserted)).containsExactly(MATCHES, MATCHES, ROOT_DIFFERS, ROOT_DIFFERS);

        List<byte[]> swapped = new ArrayList<>(log);
        Collections.swap(swapped, 5, 6);
        assertThat(statuses(trusted, swapped)).containsOnly(ROOT_DIFFERS);

        List<byte[]> truncated = log.subList(0, 80);
        assertThat(statuses(trusted, truncated)).containsExactly(MATCHES, MATCHES, MATCHES, NOT_REACHED);
        CheckpointVerifier v = new CheckpointVerifier(trusted);
        truncated.forEach(v::append);
        assertThat(v.allMatch()).isFalse();
    }

    @Test
    void theEmptyCheckpointMatchesFromTheStart() {
        Checkpoint empty = new Checkpoint("kiroku/audit", 0, Rfc6962.sha256(), Instant.EPOCH);
        CheckpointVerifier v = new CheckpointVerifier(List.of(empty));
        assertThat(v.allMatch()).isTrue();
        v.append(Rfc6962.leaf(new byte[0]));
        assertThat(v.results()).extracting(CheckpointVerifier.Result::status).containsExactly(MATCHES);
    }
}
