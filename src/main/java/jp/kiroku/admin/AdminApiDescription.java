package jp.kiroku.admin;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;

/**
 * What the generated OpenAPI description of /admin/** (springdoc, served at /admin/openapi.json) says about the API as
 * a whole: its name, and that every operation takes a bearer token from /oauth2/token (the endpoints then check the
 * caller's role themselves: auditor or administrator).
 */
@Configuration(proxyBeanMethods = false)
class AdminApiDescription {

    @Bean
    OpenAPI kirokuAdminApi() {
        return new OpenAPI()
                .info(new Info().title("Kiroku admin API").version("1")
                        .description("Administrators' and auditors' HTTP API of Kiroku: ledgers, break-glass review,"
                                + " rights requests, alerts and incidents, disposals, BCP summaries. Every call is audited."))
                .components(new Components().addSecuritySchemes("bearer", new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP).scheme("bearer").bearerFormat("JWT")
                        .description("An access token from POST /oauth2/token (client credentials, or an app acting for"
                                + " a signed-in auditor or administrator)")))
                .addSecurityItem(new SecurityRequirement().addList("bearer"));
    }
}
