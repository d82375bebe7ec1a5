"""The issuer: micro-credentials, progress, awards, signing, storage and delivery."""
