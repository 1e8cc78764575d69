package jp.kiroku.audit;

import java.io.OutputStream;
import java.time.format.DateTimeFormatter;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * Audit events as IHE ATNA audit messages (DICOM PS3.15 Annex A.5 "AuditMessage" XML, the form JAHIS's audit-trail
 * guideline builds on): one {@code AuditMessage} per event inside an {@code AuditMessages} root, for SIEMs and audit
 * repositories that take ATNA rather than FHIR.
 */
public final class AtnaXml implements AutoCloseable {

    private final XMLStreamWriter xml;

    public AtnaXml(OutputStream out) {
        try {
            xml = XMLOutputFactory.newFactory().createXMLStreamWriter(out, "UTF-8");
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("AuditMessages");
            xml.writeCharacters("\n");
        } catch (XMLStreamException e) {
            throw new IllegalStateException("Cannot write XML: " + e.getMessage(), e);
        }
    }

    public void write(StoredEvent e) {
        try {
            xml.writeStartElement("AuditMessage");
            xml.writeStartElement("EventIdentification");
            xml.writeAttribute("EventActionCode", FhirAuditEvents.actionCode(e.action()));
            xml.writeAttribute("EventDateTime", DateTimeFormatter.ISO_INSTANT.format(e.recorded()));
            xml.writeAttribute("EventOutcomeIndicator", switch (e.outcome()) {
                case "success" -> "0";
                case "denied" -> "4";
                default -> "8";
            });
            code("EventID", "110110", "DCM", "Patient Record");
            code("EventTypeCode", e.action(), FhirAuditEvents.ACTION_SYSTEM, e.action());
            xml.writeEndElement();

            xml.writeStartElement("ActiveParticipant");
            xml.writeAttribute("UserID", e.agentKind() + ":" + e.agentId());
            xml.writeAttribute("UserIsRequestor", "true");
            if (e.sourceAddress() != null) {
                xml.writeAttribute("NetworkAccessPointID", e.sourceAddress());
                xml.writeAttribute("NetworkAccessPointTypeCode", "2");
            }
            if (e.agentRole() != null) {
                code("RoleIDCode", e.agentRole(), "https://kiroku.jp/fhir/CodeSystem/role", e.agentRole());
            }
            xml.writeEndElement();

            xml.writeStartElement("AuditSourceIdentification");
            xml.writeAttribute("AuditSourceID", "Kiroku");
            xml.writeEndElement();

            for (String patient : e.patients()) {
                participant(patient, "1", "1", "2", "RFC-3881", "Patient Number", null);
            }
            for (String entity : e.entities()) {
                participant(entity, "2", "4", "12", "RFC-3881", "URI", null);
            }
            if (e.query() != null) {
                participant("query", "2", "24", "12", "RFC-3881", "URI", e.query());
            }
            if (e.requestId() != null || e.detail() != null) {
                xml.writeStartElement("ParticipantObjectIdentification");
                xml.writeAttribute("ParticipantObjectID", "event-" + e.seq());
                xml.writeAttribute("ParticipantObjectTypeCode", "4");
                code("ParticipantObjectIDTypeCode", "event", FhirAuditEvents.ACTION_SYSTEM, "Kiroku audit event");
                detail("RequestID", e.requestId());
                detail("Detail", e.detail());
                xml.writeEndElement();
            }
            xml.writeEndElement();
            xml.writeCharacters("\n");
        } catch (XMLStreamException ex) {
            throw new IllegalStateException("Cannot write XML: " + ex.getMessage(), ex);
        }
    }

    private void participant(String id, String type, String role, String idType, String system, String text, String query)
            throws XMLStreamException {
        xml.writeStartElement("ParticipantObjectIdentification");
        xml.writeAttribute("ParticipantObjectID", id);
        xml.writeAttribute("ParticipantObjectTypeCode", type);
        xml.writeAttribute("ParticipantObjectTypeCodeRole", role);
        code("ParticipantObjectIDTypeCode", idType, system, text);
        if (query != null) {
            xml.writeStartElement("ParticipantObjectQuery");
            xml.writeCharacters(java.util.Base64.getEncoder().encodeToString(query.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            xml.writeEndElement();
        }
        xml.writeEndElement();
    }

    private void code(String element, String code, String system, String text) throws XMLStreamException {
        xml.writeStartElement(element);
        xml.writeAttribute("csd-code", code);
        xml.writeAttribute("codeSystemName", system);
        xml.writeAttribute("originalText", text);
        xml.writeEndElement();
    }

    private void detail(String type, String value) throws XMLStreamException {
        if (value == null) {
            return;
        }
        xml.writeStartElement("ParticipantObjectDetail");
        xml.writeAttribute("type", type);
        xml.writeAttribute("value", java.util.Base64.getEncoder().encodeToString(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        xml.writeEndElement();
    }

    @Override
    public void close() {
        try {
            xml.writeEndElement();
            xml.writeCharacters("\n");
            xml.writeEndDocument();
            xml.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("Cannot write XML: " + e.getMessage(), e);
        }
    }
}
