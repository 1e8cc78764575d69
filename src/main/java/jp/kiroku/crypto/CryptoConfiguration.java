package jp.kiroku.crypto;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import jp.kiroku.platform.KirokuProperties;

/** The master key (opened at start: a wrong passphrase stops it), the data keys it wraps, the blind index's keys. */
@Configuration(proxyBeanMethods = false)
class CryptoConfiguration {

    @Bean
    KeyProvider masterKey(KirokuProperties props) {
        return KeyStoreMasterKey.open(props.getKeysDir(), props.getMasterKeyPassphrase(), props.getMasterKeyPassphraseFile());
    }

    @Bean
    DataKeys dataKeys(JdbcTemplate jdbc, KeyProvider masterKey, Clock clock, KirokuProperties props) {
        return new DataKeys(jdbc, masterKey, clock, props.getTokens().getActiveCheckCache());
    }

    @Bean
    BlindIndex blindIndex(JdbcTemplate jdbc, DataKeys dataKeys, Clock clock, KirokuProperties props) {
        return new BlindIndex(jdbc, dataKeys, clock, props.getSearch().getIndexKeyRefresh());
    }
}
