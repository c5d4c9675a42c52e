"""`wadoctor watch`'s parts: the circuit breaker, its history on disk, and how an action is
told to people (a hook command, a webhook)."""
