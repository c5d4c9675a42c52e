"""The read pipeline: sources, holders, discovery, the database join and the judge. It only reads."""
