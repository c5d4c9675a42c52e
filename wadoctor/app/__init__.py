"""One use case per command, over the pipeline and the repair, fleet and log packages: no
terminal, no Typer, no Rich, no printing; each returns what the command's renderers need."""
