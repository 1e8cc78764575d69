package jp.kiroku.platform;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * kiroku.log-format: {@code plain} (the default: lines for a person at a terminal) or {@code json} (one JSON object per
 * line in the Elastic Common Schema, Spring Boot's structured logging, for a log collector). Runs after the settings are
 * read (kiroku.yml, environment, arguments) and before logging starts; registered in META-INF/spring.factories.
 */
public final class LogFormat implements EnvironmentPostProcessor, Ordered {

    static final String PROPERTY = "kiroku.log-format";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        String format = env.getProperty(PROPERTY, "plain").trim().toLowerCase(java.util.Locale.ROOT);
        switch (format) {
            case "plain" -> { }
            case "json" -> env.getPropertySources().addFirst(new MapPropertySource("kiroku-log-format", Map.of(
                    "logging.structured.format.console", "ecs",
                    "logging.structured.ecs.service.name", "kiroku")));
            default -> throw new IllegalStateException(PROPERTY + " is '" + format + "': expected plain or json");
        }
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
