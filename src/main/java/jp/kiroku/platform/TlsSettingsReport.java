package jp.kiroku.platform;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a {@link TlsSettingsException} as its plain message (Spring Boot then logs no stack trace for it). */
class TlsSettingsReport extends AbstractFailureAnalyzer<TlsSettingsException> {
    @Override
    protected FailureAnalysis analyze(Throwable root, TlsSettingsException cause) {
        return new FailureAnalysis(cause.getMessage(), "Correct the kiroku.tls.* settings (docs/operations.md, 'TLS').", cause);
    }
}
