"""Who holds each session: one pass over the process table and the kernel's lock list."""
