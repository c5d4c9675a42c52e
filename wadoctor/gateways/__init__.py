"""What each gateway keeps where: its tables (known), their shape (layout), recognising an
application folder (detect), and placing and naming the sessions found in it (naming)."""
