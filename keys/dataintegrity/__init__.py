"""W3C Data Integrity 1.0 proofs: one module per cryptosuite."""
