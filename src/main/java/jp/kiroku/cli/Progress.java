package jp.kiroku.cli;

import java.io.PrintWriter;

/** A one-line progress bar on the terminal (standard error), redrawn at most five times a second. */
final class Progress {

    private final PrintWriter err;
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private long done;
    private long drawn;

    Progress(PrintWriter err, String what, long total) {
        this.err = err;
        this.what = what;
        this.total = Math.max(total, 1);
    }

    synchronized void advance(long n) { // backup create calls it from its sealer threads
        done += n;
        long now = System.nanoTime();
        if (now - drawn > 200_000_000L) {
            drawn = now;
            draw();
        }
    }

    synchronized void done() {
        draw();
        err.println();
        err.flush();
    }

    private void draw() {
        int width = 30;
        int filled = (int) Math.min(width, done * width / total);
        double seconds = Math.max((System.nanoTime() - started) / 1e9, 1e-3);
        err.printf("\r%s [%s%s] %,d/%,d  %,.0f/s", what, "#".repeat(filled), " ".repeat(width - filled), done, total,
                done / seconds);
        err.flush();
    }
}
