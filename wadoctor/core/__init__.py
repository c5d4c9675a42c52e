"""The data every layer shares: sessions, identities, holders, observations and findings."""
