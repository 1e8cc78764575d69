package jp.kiroku.incidents;

import java.util.List;

/**
 * One patient's emergency summary (BCP-02), as printed for paper-based care: who the patient is, and what must not be
 * missed — allergies, active medications, problems, recent results. Each item keeps its source resource (for the
 * audit) and its flags: not yet told to the patient (JP-CLINS UNINFORMED) or an unapproved proxy entry.
 */
record Summary(Identity patient, String bed, List<Item> allergies, List<Item> medications, List<Item> problems,
               List<Item> results) {

    /** The patient as identified on every page of theirs. */
    record Identity(String id, int version, String kanji, String kana, String birthDate, String sex,
                    List<String> identifiers) {
    }

    /**
     * One line of a section: what, details, when and by whom (details and author may be empty), with the resource
     * version it comes from.
     */
    record Item(String what, String detail, String when, String by, List<String> flags, String type, String id,
                int version) {
    }

    /** All items of the summary, in section order. */
    List<Item> items() {
        List<Item> all = new java.util.ArrayList<>(allergies);
        all.addAll(medications);
        all.addAll(problems);
        all.addAll(results);
        return all;
    }

    /** Section titles with their items, in print order. */
    List<Section> sections() {
        return List.of(new Section("アレルギー・副作用 (Allergies)", allergies),
                new Section("服用中の薬剤 (Active medications)", medications),
                new Section("問題・病名 (Problems)", problems),
                new Section("最近の検査結果 (Recent results, newest first)", results));
    }

    record Section(String title, List<Item> items) {
    }

    /** The summary as plain text (the downtime viewer prints it on the console). */
    String text(String printedAt) {
        StringBuilder out = new StringBuilder("緊急時サマリー (Emergency summary) — ").append(printedAt).append('\n');
        out.append(patient.kanji()).append(patient.kana().isEmpty() ? "" : " (" + patient.kana() + ")")
                .append("  生年月日 ").append(patient.birthDate()).append("  性別 ").append(patient.sex()).append('\n');
        out.append("ID: ").append(patient.id());
        patient.identifiers().forEach(i -> out.append(", ").append(i));
        out.append('\n');
        if (!bed.isEmpty()) {
            out.append("病棟・病床: ").append(bed).append('\n');
        }
        for (Section s : sections()) {
            out.append('\n').append("■ ").append(s.title()).append('\n');
            if (s.items().isEmpty()) {
                out.append("  記録なし (none recorded)\n");
            }
            for (Item i : s.items()) {
                out.append("  - ");
                i.flags().forEach(f -> out.append('【').append(f).append('】'));
                out.append(i.what());
                if (!i.detail().isEmpty()) {
                    out.append(" — ").append(i.detail());
                }
                if (!i.when().isEmpty() || !i.by().isEmpty()) {
                    out.append(" (").append(String.join(", ", List.of(i.when(), i.by()).stream()
                            .filter(x -> !x.isEmpty()).toList())).append(')');
                }
                out.append('\n');
            }
        }
        return out.toString();
    }
}
