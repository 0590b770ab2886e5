// Package meter counts what a deployment used, from its event log, and
// writes it as signed monthly usage reports.
//
// The event log is the one source: a report is a pure function of the
// log's records dated in a calendar month (UTC, by each event's own
// time), so anyone holding the log recounts it and gets the same report,
// digest included, and anyone holding only the report and the operator's
// public key checks its signature offline. A usage report file is two
// PEM blocks, a "KNHK USAGE REPORT" block with the JSON of [Usage] and a
// runtime/sign signature block over its SHA-256 under the domain
// "usage/v1"; docs/licensing.md describes both.
package meter
