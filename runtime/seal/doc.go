// Package seal encrypts secret values at rest for one recipient with the
// hybrid KEM X-Wing (X25519 and ML-KEM-768 combined with SHA3-256,
// github.com/cloudflare/circl/kem/xwing) and AES-256-GCM, so that a
// secret stays safe if either X25519 or ML-KEM falls, a quantum computer
// included.
//
// A sealed value is text, so it travels wherever a string does (a case's
// input, a signal's payload) and is what the event log, receipts,
// history and exports hold:
//
//	knhk-sealed:v1:BASE64URL(key id (16) || X-Wing ciphertext (1120) || nonce (12) || AES-GCM ciphertext)
//
// The AES key is the X-Wing shared secret; the additional data binds the
// format version, the recipient's key id and the KEM ciphertext. Only
// the holder of the recipient's private key opens it: knhk run
// --unseal-key KEY opens sealed arguments of task calls at the moment the
// task is called, never before an event is logged.
package seal
