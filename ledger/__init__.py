"""The gateway library: records, signing, deployment and (later) submission and proofs."""
