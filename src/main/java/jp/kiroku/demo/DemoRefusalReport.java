package jp.kiroku.demo;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a {@link DemoRefused} start as its plain message (Spring Boot then logs no stack trace for it). */
class DemoRefusalReport extends AbstractFailureAnalyzer<DemoRefused> {
    @Override
    protected FailureAnalysis analyze(Throwable root, DemoRefused cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
