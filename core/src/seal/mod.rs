//! Sealing for upload (HPKE, RFC 9180), consent, and encrypted storage at rest.
//! (Being built: issue 5.)
