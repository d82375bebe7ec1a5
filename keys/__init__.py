"""Key material, Multikey, JWK, DIDs (did:key, did:web), the safe fetcher and Data Integrity.

Imports only :mod:`contexts`.
"""
