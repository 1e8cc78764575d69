/**
 * The compliance report (issue 12, item 6): the requirement catalog of the MHLW guideline and its cybersecurity
 * checklist ({@code compliance/catalog.json}, kept in sync with {@code shared/guideline/requirements.md} by a test),
 * evidence computed from the running installation for each system-side requirement ({@code EvidenceChecks}: settings,
 * database state), the automated tests that prove each requirement ({@code compliance/test-evidence.json}, generated
 * from the tests' {@code @Tag}s and surefire reports), and the security officer's answers for what the system cannot
 * know ({@code compliance_answer}); rendered as JSON and as a PDF in Japanese or English.
 */
package jp.kiroku.compliance;
