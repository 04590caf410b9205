"""rcauth: sign in to RingCentral from a terminal (OAuth 2.0 authorization code + PKCE, RFC 8252)."""

# A literal, not importlib.metadata: `rcauth --version` must not pay for a metadata scan at start-up.
__version__ = "0.1.0"
