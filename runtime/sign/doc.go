// Package sign holds KNHK's signature keys: generation, signing and
// verification for every algorithm knhk offers, the PEM-style key,
// public key and signature files, key ids and trust directories.
//
// Every algorithm but the composite goes through
// github.com/cloudflare/circl. The composite mldsa65-ed25519 follows
// draft-ietf-lamps-pq-composite-sigs (Composite ML-DSA): both component
// signatures are always present and both must verify, so that a break of
// either ML-DSA or Ed25519 alone forges nothing. circl's schemes panic
// when given a key of another scheme; this package never lets a panic
// out: every call into circl runs under [guard] and a key always carries
// its algorithm, so a mismatch is an error that names both algorithms.
//
// Messages are signed under a domain (see [Domain]): a checkpoint
// signature is never a valid descriptor signature, whatever the bytes.
//
// The file formats are described in docs/signing.md.
package sign
