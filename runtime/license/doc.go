// Package license holds KNHK's licence tokens: who a deployment is
// licensed to (customer, and later tenant), on which tier, with which
// limits and until when, signed by the vendor with the composite
// ML-DSA-65+Ed25519 key of runtime/sign so that a runtime verifies it
// offline, without calling home.
//
// A licence file is two PEM blocks: a "KNHK LICENSE" block whose body is
// the canonical JSON payload ([Payload]), and a "KNHK SIGNATURE" block
// (runtime/sign's format) over the payload's SHA-256 under the domain
// "license/v1". Tiers are data: a tiers file ([Tiers]) names each tier's
// limits, and issuing a licence copies the tier's limits into the payload,
// so that a runtime needs only the licence and the vendor's public key.
//
// [Enforcer] applies a licence to a running server: it refuses new starts
// and deploys beyond a limit with an error naming the limit, warns during
// the grace period after expiry and refuses new starts after it, and never
// touches a case already running. The format is described in
// docs/licensing.md.
package license
