"""Shell completion of what only wadoctor knows: session ids and quarantine ids.

Commands and options complete through Typer (`wadoctor --install-completion`); these answer
for arguments, from the config's roots (or the current folder), reading only what they name.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _roots(ctx: typer.Context) -> list[Path]:
    from wadoctor.app.targets import default_paths
    from wadoctor.config import load_config

    return default_paths(load_config(ctx.params.get("config_file")))


def session_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    from wadoctor.config import load_config
    from wadoctor.pipeline.discovery import Discovery
    from wadoctor.stores.adapters import ADAPTERS

    config = load_config(ctx.params.get("config_file"))
    found = Discovery(ADAPTERS, config.max_depth).sessions(_roots(ctx))
    return sorted({s.id for s in found if s.id.startswith(incomplete)})


def quarantine_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    from wadoctor.config import load_config
    from wadoctor.repair.quarantine import entries, state_roots

    roots = [Path(r) for r in ctx.params.get("root") or []] or _roots(ctx)
    config = load_config(ctx.params.get("config_file"))
    found = entries(state_roots(roots, config.max_depth))
    runs = incomplete.startswith("r")  # entry ids start with their date, run ids with `run-`
    return sorted({e.run if runs else e.id for e in found if (e.run if runs else e.id).startswith(incomplete)})
