package jp.kiroku.crypto;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.audit.AuditTrail;
import jp.kiroku.platform.KirokuProperties;

/** The master key (opened at start: a wrong passphrase stops it) and the data keys it wraps. */
@Configuration(proxyBeanMethods = false)
class CryptoConfiguration {

    @Bean
    KeyProvider masterKey(KirokuProperties props) {
        return KeyStoreMasterKey.open(props.getKeysDir(), props.getMasterKeyPassphrase(), props.getMasterKeyPassphraseFile());
    }

    @Bean
    DataKeys dataKeys(JdbcTemplate jdbc, KeyProvider masterKey, AuditTrail audit, Clock clock, KirokuProperties props) {
        return new DataKeys(jdbc, masterKey, audit, clock, props.getTokens().getActiveCheckCache());
    }
}
