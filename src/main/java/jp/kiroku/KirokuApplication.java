package jp.kiroku;

import org.springframework.boot.autoconfigure.SpringBootApplication;

import jp.kiroku.cli.KirokuCli;

/** Kiroku: a FHIR R4 medical record vault. {@code kiroku serve} runs the server; other subcommands administer it. */
@SpringBootApplication
public class KirokuApplication {

    public static void main(String[] args) {
        KirokuCli.main(KirokuApplication.class, args);
    }
}
