package jp.kiroku.fhir;

/**
 * A HAPI plain provider (methods annotated with {@code @Operation}) from another module, registered with the FHIR
 * server at start-up: the module's Spring bean implements this interface. Its methods take the caller from
 * {@link Interactions#caller} and do their work through {@link Interactions}, so the same checks and audit apply.
 */
public interface OperationProvider {
}
