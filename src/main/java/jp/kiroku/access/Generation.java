package jp.kiroku.access;

import java.util.concurrent.atomic.AtomicLong;

import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The generation of a derived table's cache in this process: a write advances it once its transaction commits, so
 * the next decision here reads the table again (other processes see the write when their cache entry expires).
 */
final class Generation {

    private final AtomicLong value = new AtomicLong();

    long current() {
        return value.get();
    }

    /** After the current transaction commits (nothing when there is none: the cache's expiry covers it). */
    void advanceAfterCommit() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    value.incrementAndGet();
                }
            });
        }
    }
}
