package jp.kiroku;

import org.junit.jupiter.api.Test;
import org.springframework.modulith.core.ApplicationModules;

/** Capability packages talk to each other only through their public API (Spring Modulith's rules, no cycles). */
class ModuleStructureTest {

    @Test
    void modulesRespectTheirBoundaries() {
        ApplicationModules.of(KirokuApplication.class).verify();
    }
}
