package jp.kiroku.demo;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

/** In demo mode every page's layout shows the demo banner ({@code demoMode} in the model; layout.html). */
@ControllerAdvice
@ConditionalOnProperty(name = "kiroku.demo", havingValue = "true")
class DemoBanner {

    @ModelAttribute("demoMode")
    boolean demoMode() {
        return true;
    }
}
