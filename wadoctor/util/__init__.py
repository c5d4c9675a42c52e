"""Small helpers that know nothing of WhatsApp: escaping, masking, times, trusted file
access, forked workers, errors and exit codes."""
