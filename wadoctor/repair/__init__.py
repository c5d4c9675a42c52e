"""Repair without loss: plans, a quarantine every move can be undone from, creds backups."""
