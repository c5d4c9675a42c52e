"""`wadoctor fleet`: every host, session, holder and conflict the registry knows."""

from __future__ import annotations

import typer

from wadoctor.cli.options import ConfigFile, Json, Registry
from wadoctor.util.errors import ConfigError


def fleet(registry: Registry = None, config_file: ConfigFile = None, json: Json = False) -> None:
    """Show the whole fleet from the registry: hosts, sessions, holders, cross-host conflicts.
    Exit 2 when an identity is live on two hosts, 1 for other conflicts or silent hosts.

    \b
    Example: wadoctor fleet --registry postgresql://wadoctor@db.internal/gateways
    """
    from wadoctor.app.fleet import read_view
    from wadoctor.config import load_config, registry_url

    config = load_config(config_file)
    url = registry_url(config, registry)
    if not url:
        raise ConfigError("no registry: give --registry URL, $WADOCTOR_REGISTRY or [registry] url")
    view = read_view(url, config.registry_stale_minutes)
    if json:
        from wadoctor.render.envelope import write_json
        from wadoctor.render.fleet import fleet_document

        write_json(fleet_document(view))
    else:
        from wadoctor.cli.output import Output
        from wadoctor.render.fleet import print_fleet

        print_fleet(Output().out, view)
    raise typer.Exit(int(view.exit_code))
