package jp.kiroku.fhir;

import java.io.IOException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jp.kiroku.search.SearchIndex;

/**
 * Compartment searches ({@code GET Patient/123/Observation?code=x}, {@code POST Patient/123/Observation/_search}):
 * HAPI binds compartment searches only per annotated compartment name, so this filter forwards them to the
 * type's ordinary search with the compartment as a request attribute, which clients cannot set.
 */
final class CompartmentPaths implements Filter {

    private static final String ATTRIBUTE = CompartmentPaths.class.getName();
    private static final Pattern PATH = Pattern.compile(
            "/fhir/(Patient|Encounter|RelatedPerson|Practitioner|Device)/([A-Za-z0-9\\-.]{1,64})/([A-Z][A-Za-z]+)(/_search)?");

    private final Set<String> resourceTypes;

    CompartmentPaths(Set<String> resourceTypes) {
        this.resourceTypes = Set.copyOf(resourceTypes);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && http.getAttribute(ATTRIBUTE) == null) {
            String path = http.getRequestURI().substring(http.getContextPath().length());
            Matcher m = PATH.matcher(path);
            if (m.matches() && resourceTypes.contains(m.group(3))) {
                http.setAttribute(ATTRIBUTE, new SearchIndex.Compartment(m.group(1), m.group(2)));
                String target = "/fhir/" + m.group(3) + (m.group(4) != null ? m.group(4) : "");
                http.getRequestDispatcher(target).forward(request, response);
                return;
            }
        }
        chain.doFilter(request, response);
    }

    /** The compartment a forwarded search is restricted to, or null. */
    static SearchIndex.Compartment compartment(RequestDetails request) {
        if (request instanceof ServletRequestDetails s
                && s.getServletRequest().getAttribute(ATTRIBUTE) instanceof SearchIndex.Compartment c) {
            return c;
        }
        return null;
    }
}
