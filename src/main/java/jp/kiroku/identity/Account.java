package jp.kiroku.identity;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * One natural person's account (AUTH-02): who they are, what they may be, and the state of their credentials.
 * {@code careUnits} are the departments and wards ({@code Organization/…}, {@code Location/…}) the person is
 * assigned to: their patients are within reach (access control).
 */
public record Account(UUID id, String username, String kind, List<String> roles, String name, String nameKana,
                      String nameRomaji, LocalDate birthDate, String profession, String department, String facility,
                      String employment, String fhirRef, boolean active, Instant createdAt, Instant lastLoginAt,
                      boolean mustChangePassword, Instant passwordExpiresAt, boolean totpEnrolled, List<String> careUnits) {

    /** Every written form of the person's name, for the password rules (AUTH-04). */
    List<String> names() {
        return java.util.stream.Stream.of(name, nameKana, nameRomaji).filter(s -> s != null && !s.isBlank()).toList();
    }

    @Override
    public String toString() { // no personal data in logs
        return "Account[" + username + "]";
    }
}
