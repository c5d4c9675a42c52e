"""The fleet registry: one device identity live on one host only, across gateway hosts,
kept in the PostgreSQL the gateways already run (psycopg 3, `pip install wadoctor[fleet]`)."""
