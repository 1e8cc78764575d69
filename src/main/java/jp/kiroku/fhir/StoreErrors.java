package jp.kiroku.fhir;

import org.springframework.dao.DuplicateKeyException;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import jp.kiroku.store.StoreException;

/** Store refusals as FHIR HTTP errors. */
final class StoreErrors {

    private StoreErrors() {
    }

    static BaseServerResponseException toFhir(RuntimeException e) {
        if (e instanceof StoreException s) {
            return switch (s.reason()) {
                case VERSION_CONFLICT -> new PreconditionFailedException("Version conflict (If-Match): " + s.getMessage());
                case STILL_REFERENCED, CONFIRMED_NEEDS_REASON -> new ResourceVersionConflictException(s.getMessage());
                case UNRESOLVED_REFERENCE, DUPLICATE -> new InvalidRequestException(s.getMessage());
            };
        }
        if (e instanceof DuplicateKeyException) {
            return new ResourceVersionConflictException("A concurrent request changed the same resource; retry");
        }
        throw e;
    }
}
