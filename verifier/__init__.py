"""The verifier: checks a credential and reports, on its own (never imports :mod:`issuer`)."""
