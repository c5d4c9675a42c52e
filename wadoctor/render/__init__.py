"""Renderers: the same Report as a Rich table, as versioned JSON, or quietly."""
