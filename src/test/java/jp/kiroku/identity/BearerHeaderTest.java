package jp.kiroku.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

import jp.kiroku.support.FhirHttp;
import jp.kiroku.support.ServerTest;

/**
 * The Authorization header read without a regular expression: the same token, the same "no token" and the same
 * refusal as Spring Security's DefaultBearerTokenResolver for every header tried; and a running server answers each
 * kind as before.
 */
class BearerHeaderTest extends ServerTest {

    private static final String JWT = "eyJraWQiOiJrIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJ4In0.c2ln-_~+/";

    @Test
    void readsEveryHeaderAsSpringSecuritysOwnResolver() {
        List<String> headers = new ArrayList<>(List.of("Bearer " + JWT, "bearer " + JWT, "BEARER " + JWT, "BeArEr x",
                "Bearer x=", "Bearer x==", "Bearer =", "Bearer x=y", "Bearer x==y", "Bearer", "Bearer ", "Bearer  x",
                "Bearer x ", " Bearer x", "Bearerx", "Bearer\tx", "Bearer x y", "Basic dXNlcjpwYXNz", "Token x", "",
                "bearer 記録", "Bearer ｘ", "Bearer x\u0000", "Bearer\u00A0x", "B", "Bear", "Bearer x\n", "Bearer x\r\n",
                "Bearer x\u2028", "Bearer x\u0085"));
        for (char c = 0; c < 0x180; c++) {
            headers.add("Bearer a" + c + "b");
            headers.add("Bearer " + c);
            headers.add(c + "earer x");
        }
        BearerTokenResolver spring = new DefaultBearerTokenResolver();
        BearerTokenResolver ours = new BearerHeader();
        int tokens = 0;
        int refused = 0;
        int none = 0;
        for (String header : headers) {
            String expected = outcome(spring, header);
            String actual = outcome(ours, header);
            assertThat(actual).as("header %s", header.chars().boxed().toList()).isEqualTo(expected);
            tokens += expected.startsWith("token ") ? 1 : 0;
            refused += expected.equals("malformed") ? 1 : 0;
            none += expected.equals("none") ? 1 : 0;
        }
        assertThat(tokens).isGreaterThan(50);
        assertThat(refused).isGreaterThan(300);
        assertThat(none).isGreaterThan(300);
        assertThat(outcome(ours, null)).isEqualTo(outcome(spring, null)).isEqualTo("none");
    }

    @Test
    void theServerAcceptsAWellFormedTokenInAnyCaseAndRefusesTheRest() {
        String token = FhirHttp.fetchToken(anonymous.root(), ADMIN_ID, ADMIN_SECRET, null);
        assertThat(anonymous.get("Patient?_count=1", Map.of("Authorization", "Bearer " + token)).status()).isEqualTo(200);
        assertThat(anonymous.get("Patient?_count=1", Map.of("Authorization", "bEARER " + token)).status()).isEqualTo(200);
        for (String bad : List.of("Bearer " + token + " x", "Bearer  " + token, "Bearer " + token + "=x", "Bearer",
                "Basic dXNlcjpwYXNz", "Bearer " + token.substring(0, token.length() - 2))) {
            FhirHttp.Response r = anonymous.get("Patient?_count=1", Map.of("Authorization", bad));
            assertThat(r.status()).as(bad).isEqualTo(401);
            assertThat(r.body()).as(bad).contains("OperationOutcome").doesNotContain(token);
        }
    }

    /** "token X", "none" (no bearer token in the request) or "malformed" (refused). */
    private static String outcome(BearerTokenResolver resolver, String header) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient");
        if (header != null) {
            request.addHeader("Authorization", header);
        }
        try {
            String token = resolver.resolve(request);
            return token == null ? "none" : "token " + token;
        } catch (OAuth2AuthenticationException e) {
            return "malformed";
        }
    }
}
