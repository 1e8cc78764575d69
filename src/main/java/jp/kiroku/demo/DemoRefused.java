package jp.kiroku.demo;

/** A start refused because demo and real data would mix: what is wrong and what to do, no stack trace needed. */
class DemoRefused extends IllegalStateException {

    private final String action;

    DemoRefused(String message, String action) {
        super(message + " " + action);
        this.action = action;
    }

    String action() {
        return action;
    }
}
