package jp.kiroku.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.springframework.transaction.support.TransactionTemplate;

/**
 * Commits the audit events of concurrent read requests together: each request hands over its events and waits until
 * they are committed (durable before its response, fail closed), but one transaction and one WAL flush serve all the
 * events that arrived meanwhile. Two writer threads, so that one gathers while the other commits. When a shared commit
 * fails, each request's events are retried alone, so that only the events that cannot be written fail their request.
 */
final class GroupCommit implements AutoCloseable {

    private static final int MAX_REQUESTS_PER_COMMIT = 256;

    private record Pending(List<Object[]> rows, CompletableFuture<Void> done) {
    }

    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final TransactionTemplate tx;
    private final Consumer<List<Object[]>> insert;
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean open = true;

    GroupCommit(TransactionTemplate tx, Consumer<List<Object[]>> insert) {
        this.tx = tx;
        this.insert = insert;
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(this::write, "kiroku-audit-commit-" + i);
            t.setDaemon(true);
            t.start();
            writers.add(t);
        }
    }

    /** Returns once {@code rows} are committed; throws (and nothing of them is stored) when they cannot be. */
    void commit(List<Object[]> rows) {
        if (!open) {
            throw new IllegalStateException("The audit trail is closed");
        }
        Pending p = new Pending(rows, new CompletableFuture<>());
        queue.add(p);
        try {
            p.done().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("The audit event was not committed within 60 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while recording the audit event", e);
        }
    }

    private void write() {
        while (open || !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_REQUESTS_PER_COMMIT - 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                List<Object[]> rows = new ArrayList<>();
                batch.forEach(p -> rows.addAll(p.rows()));
                tx.executeWithoutResult(s -> insert.accept(rows));
                batch.forEach(p -> p.done().complete(null));
            } catch (RuntimeException shared) {
                for (Pending p : batch) { // alone, so that one unwritable event does not fail the others
                    try {
                        tx.executeWithoutResult(s -> insert.accept(p.rows()));
                        p.done().complete(null);
                    } catch (RuntimeException alone) {
                        p.done().completeExceptionally(alone);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        open = false;
        for (Thread t : writers) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.done().completeExceptionally(new IllegalStateException("The audit trail closed before this event was written"));
        }
    }
}
