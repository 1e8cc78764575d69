package jp.kiroku.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jp.kiroku.support.PdfText;

/**
 * The printed layout of emergency summaries (BCP-02): a sheet that comes loose from the pile still says what it is,
 * when it was printed and whose it is — on every page, also when a patient's summary runs over several pages.
 */
@Tag("BCP-02")
class SummaryPagesTest {

    @Test
    void everyPageNamesTheSummaryThePrintTimeAndItsPatient() throws Exception {
        List<Summary.Item> many = new ArrayList<>();
        for (int i = 0; i < 90; i++) { // runs over a page
            many.add(new Summary.Item("検査" + i, String.valueOf(i), "2026-12-0" + (1 + i % 9), "", List.of(), "Observation",
                    "o" + i, 1));
        }
        Summary first = new Summary(new Summary.Identity("pa-1", 1, "山田 太郎", "ヤマダ タロウ", "1950-01-02", "男",
                List.of("診察券: 1234")), "301号室", List.of(), List.of(), List.of(), many);
        Summary second = new Summary(new Summary.Identity("pb-2", 1, "鈴木 花子", "", "1960-03-04", "女", List.of()), "302号室",
                List.of(new Summary.Item("ペニシリン", "", "", "", List.of("未告知: 患者本人へ説明しないこと"), "AllergyIntolerance",
                        "a", 1)), List.of(), List.of(), List.of());
        byte[] pdf = SummaryPages.pdf("3階東病棟", "2026-12-07 11:00 JST", List.of(first, second));

        List<String> pages = PdfText.pages(pdf);
        assertThat(pages).hasSizeGreaterThanOrEqualTo(3);
        for (String page : pages) {
            assertThat(page).contains("緊急時サマリー").contains("2026-12-07 11:00 JST").contains("3階東病棟");
            assertThat(page.contains("ID pa-1") ^ page.contains("ID pb-2")).as(page).isTrue();
        }
        assertThat(pages.get(1)).as("the first patient's second page").contains("山田 太郎").contains("ID pa-1")
                .doesNotContain("鈴木");
        assertThat(pages.get(pages.size() - 1)).contains("鈴木 花子").contains("ペニシリン").contains("未告知").doesNotContain("山田");
    }
}
