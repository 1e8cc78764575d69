package jp.kiroku.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.ZoneId;

import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.junit.jupiter.api.Test;

import ca.uhn.fhir.context.FhirContext;

class ParamExtractorTest {

    private static final ParamExtractor EXTRACTOR = new ParamExtractor(FhirContext.forR4Cached(), ZoneId.of("Asia/Tokyo"));

    @Test
    void unionsAreSplitOnlyAtTheTopLevel() {
        assertThat(ParamExtractor.splitTopLevelUnion("a.b | (c | d).e | f.where(x = 'p|q')"))
                .containsExactly("a.b", "(c | d).e", "f.where(x = 'p|q')");
        assertThat(ParamExtractor.splitTopLevelUnion("Patient.name")).containsExactly("Patient.name");
    }

    @Test
    void quantitiesOfEveryComponentAreIndexedDespiteTheUnion() {
        // component-value-quantity is "(Observation.component.value as Quantity) | (... as SampledData)": evaluated as
        // one union, HAPI throws on Quantities (HAPI-0274); evaluated per branch it works
        Observation bp = new Observation();
        bp.setStatus(Observation.ObservationStatus.FINAL).getCode().addCoding().setSystem("http://loinc.org").setCode("85354-9");
        bp.addComponent().setValue(new Quantity().setValue(new BigDecimal("128")).setSystem("http://unitsofmeasure.org").setCode("mm[Hg]"));
        bp.addComponent().setValue(new Quantity().setValue(new BigDecimal("82")).setSystem("http://unitsofmeasure.org").setCode("mm[Hg]"));
        IndexRows rows = EXTRACTOR.extract(bp);
        assertThat(rows.quantities).filteredOn(q -> q.param().equals("component-value-quantity"))
                .extracting(IndexRows.Num::value).containsExactlyInAnyOrder(new BigDecimal("128"), new BigDecimal("82"));
        assertThat(rows.tokens).anySatisfy(t -> {
            assertThat(t.param()).isEqualTo("code");
            assertThat(t.code()).isEqualTo("85354-9");
        });
    }

    @Test
    void kanaFormsNormaliseAlikeButVoicingMarksAndKanjiStay() {
        assertThat(TextNormalizer.normalize("やまだ")).isEqualTo(TextNormalizer.normalize("ﾔﾏﾀﾞ")).isEqualTo("ヤマダ");
        assertThat(TextNormalizer.normalize("ヤマタ")).isNotEqualTo("ヤマダ");
        assertThat(TextNormalizer.normalize("山田")).isEqualTo("山田");
        assertThat(TextNormalizer.normalize("José ＡＢＣ")).isEqualTo("jose abc");
    }
}
