package jp.kiroku.exchange;

import org.hl7.fhir.r4.model.Bundle;

import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;

/** JP-CLINS documents (referral letter, discharge summary) built from a patient's stored data. */
@org.springframework.stereotype.Component
public class ClinsDocuments {

    /** The two documents. */
    public enum Type {
        REFERRAL, DISCHARGE
    }

    Bundle build(ClinsExport.PatientData data, Type type, String institution, ClinsExport export) {
        throw new UnprocessableEntityException("JP-CLINS " + type.name().toLowerCase() + " documents are not built yet");
    }
}
