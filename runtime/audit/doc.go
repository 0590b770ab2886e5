// Package audit keeps the audit log of a data directory: one record per
// administrative or data-access action (who: tenant, subject, role and
// credential kind; what: the action and its target ids; when; from
// where: the remote address; result: ok or the error code), chained by
// hash so that a record changed, removed, inserted or reordered breaks
// the chain at that record, and anchored in the receipt log's Merkle
// tree (runtime/receipt) so that an auditor can prove offline, with the
// receipt signer's public key alone, that the chain up to an anchored
// head existed when the covering checkpoint was signed.
//
// A record's hash is SHA-256("knhk-audit/v1" || 0x00 || prev || body)
// where body is the SHA-256 of the record's fields in their canonical
// JSON encoding. An export for one tenant can therefore replace other
// tenants' records by their body digest (redaction) and the chain still
// verifies.
//
// Appends are group-committed: [Log.Append] returns once the record is
// written and fsync'd together with every record queued with it, so a
// record acknowledged is never lost. Several processes may append to one
// log (knhk serve and the admin CLI): each batch is written under an
// exclusive flock(2) of the log, after reading what others appended.
//
// Anchors: [Anchorer] commits the chain's head (its sequence number and
// hash) as a receipt of the pseudo case [AnchorCase] in the receipt log
// (the event is [AnchorEvent], a signal whose digest an auditor
// recomputes from the anchor file), and lists it in DIR/audit/anchors.
// knhk receipts prove knhk:audit gives the inclusion proofs.
//
// Files under DIR/audit: "log" (a header line then one JSON record per
// line), "anchors" (one JSON anchor per line) and "keys" (the per-case
// and per-tenant data keys of crypto-shredding, see [Keys]). See
// docs/audit.md.
package audit
