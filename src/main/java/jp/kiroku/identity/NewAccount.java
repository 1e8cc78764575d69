package jp.kiroku.identity;

import java.time.LocalDate;
import java.util.List;

/** What an administrator enters to create an account (from HR records, AUTH-10). */
public record NewAccount(String username, String kind, List<String> roles, String name, String nameKana,
                         String nameRomaji, LocalDate birthDate, String profession, String department, String facility,
                         String fhirRef) {
}
