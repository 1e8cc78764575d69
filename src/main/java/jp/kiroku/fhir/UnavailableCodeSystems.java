package jp.kiroku.fhir;

import java.util.Map;
import java.util.Optional;

/**
 * The code systems JP Core / JP-CLINS data uses that no package shipped with Kiroku defines: their content is published
 * in the separate {@code jpfhir-terminology.r4} package (and the MEDIS/MHLW masters behind it), which is not available
 * offline here. Codes from them are <em>not</em> checked: the validator reports each such code as a warning, and
 * {@link ProfileValidator} appends "listed unavailable code system" to it so that a reader can tell it from an
 * unexpected unknown system. Nothing is faked: no partial copies of these systems exist in Kiroku.
 *
 * <p>Consequence: a wrong code from one of these systems is not detected (the JP-CLINS error example
 * {@code ErrorExample-JP-MedReq-PO-SID-28days}, a wrong MHLW general-name drug code, is accepted with such a warning).
 * The list is documented in {@code docs/exchange.md}.
 */
public final class UnavailableCodeSystems {

    /** System URL → what it is. */
    public static final Map<String, String> SYSTEMS = Map.ofEntries(
            Map.entry("http://medis.or.jp/CodeSystem/master-disease-keyNumber", "MEDIS 標準病名マスター 病名管理番号"),
            Map.entry("http://medis.or.jp/CodeSystem/master-disease-exCode", "MEDIS 標準病名マスター 病名交換用コード"),
            Map.entry("http://medis.or.jp/CodeSystem/master-disease-modKeyNumber", "MEDIS 修飾語管理番号"),
            Map.entry("http://medis.or.jp/CodeSystem/master-disease-modExCode", "MEDIS 修飾語交換用コード"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full", "ICD-10 (2013, MHLW)"),
            Map.entry("http://loinc.org", "LOINC (no terminology server offline)"),
            Map.entry("http://jami.jp/CodeSystem/MedicationUsageAdditional", "JAMI 用法補足コード"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationSubstitutionProhibittedCategory", "後発品変更不可区分"),
            Map.entry("http://medis.or.jp/CodeSystem/master-JLAC10-17digits", "JLAC10 臨床検査項目コード (17 digits)"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JLAC10", "JLAC10"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JLAC11", "JLAC11"),
            Map.entry("http://medis.or.jp/CodeSystem/master-JLAC11", "JLAC11"),
            Map.entry("http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS",
                    "施設固有の検査項目コード (each institution's own codes)"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JP_ObservationSampleMaterialCode_CS", "JLAC10 材料コード"),
            Map.entry("http://capstandard.jp/iyaku.info/CodeSystem/YJ-code", "YJ コード (個別医薬品コード)"),
            Map.entry("urn:oid:1.2.392.100495.20.1.73", "YJ コード (OID form)"),
            Map.entry("http://medis.or.jp/CodeSystem/master-HOT9", "HOT9 (MEDIS 医薬品 HOT コード)"),
            Map.entry("http://medis.or.jp/CodeSystem/master-HOT7", "HOT7"),
            Map.entry("http://medis.or.jp/CodeSystem/master-HOT13", "HOT13"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode", "厚労省 一般名処方マスタ"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUsage_ePrescription", "電子処方箋 用法コード"),
            Map.entry("http://jami.jp/CodeSystem/MedicationUsage", "JAMI 標準用法コード"),
            Map.entry("http://jami.jp/CodeSystem/MedicationMethodBasicUsage", "JAMI 基本用法区分"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUnitMERIT9Code", "MERIT-9 単位コード"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationIngredientStrengthStrengthType", "力価区分"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/route-codes", "HL7 v2 table 0162 (JP)"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JHSP0007", "JAHIS 処方区分"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCategoryMERIT9_CS", "MERIT-9 処方区分"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS", "JFAGY 食物アレルゲン"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS", "JFAGY 非食物・非薬物アレルゲン"),
            Map.entry("http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS", "JFAGY 薬物アレルゲン"),
            Map.entry("http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment", "SS-MIX2 診療科コード"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/PrefectureNo-2digits", "都道府県番号"),
            Map.entry("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationFeeScoreType", "点数表コード"));

    private UnavailableCodeSystems() {
    }

    /** What the system is, when it is one of the listed unavailable systems. */
    public static Optional<String> describe(String system) {
        return Optional.ofNullable(system == null ? null : SYSTEMS.get(system));
    }
}
