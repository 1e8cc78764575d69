/**
 * Demo mode ({@code kiroku serve --demo}, issue 11 item 6): marks and guards the demo database, loads the JP Core
 * examples and a few Synthea patients through the FHIR write path, creates one demo account per role and prints their
 * credentials, and puts a demo banner on every page.
 */
package jp.kiroku.demo;
