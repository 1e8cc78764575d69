package jp.kiroku.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/** A real headless Chromium (Debian's chromium and chromium-driver) for the browser tests. */
public final class Chromium {

    private Chromium() {
    }

    /**
     * A fresh browser in Japanese at {@code width}×{@code height}; fails with what to install when there is none. Its
     * temporary files go to {@code tmp} (TMPDIR), among them the SingletonSocket directory Chromium leaves behind.
     */
    public static WebDriver start(int width, int height, Path tmp) {
        Path binary = Path.of("/usr/bin/chromium");
        Path driver = Path.of("/usr/bin/chromedriver");
        assertThat(Files.isExecutable(binary) && Files.isExecutable(driver))
                .as("browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver"
                        + " fonts-noto-cjk; .ci/run installs them)").isTrue();
        ChromeOptions options = new ChromeOptions();
        options.setCapability("webauthn:virtualAuthenticators", true);
        options.setBinary(binary.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=ja",
                "--window-size=" + width + "," + height);
        return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .withEnvironment(java.util.Map.of("TMPDIR", tmp.toString())).build(), options);
    }
}
