/**
 * Exchange with other systems in standard formats (JP Core, JP-CLINS, SS-MIX2). JP-CLINS (SHARE-01/02, issue 12 item
 * 3): {@link jp.kiroku.exchange.ClinsExport} builds a patient's JP_Bundle_CLINS collections and documents from the stored
 * records, {@link jp.kiroku.exchange.ClinsImport} stores incoming JP-CLINS Bundles and resources,
 * {@link jp.kiroku.exchange.ClinsOperations} serves them as {@code $clins-export} and {@code $clins-import}; validation is
 * the FHIR module's (JP Core 1.1.2 + JP-CLINS 1.5.2 packages); see docs/exchange.md. SS-MIX2 (SHARE-03):
 * {@link jp.kiroku.exchange.Ssmix2Import} reads a standardized storage into JP Core resources,
 * {@link jp.kiroku.exchange.Ssmix2Export} writes patients' records as one; see docs/operations.md.
 */
package jp.kiroku.exchange;
