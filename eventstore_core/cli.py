"""The ``eventstore`` command: ``eventstore plugins`` lists what is installed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import plugins


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eventstore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("plugins", help="list installed plugins and what they register")
    listing.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if args.command == "plugins":
        return _plugins(as_json=args.json)
    return 2  # pragma: no cover - argparse refuses unknown commands


def _plugins(as_json: bool) -> int:
    registered = {
        "backends": {name: r.distribution for name, r in plugins.backends().items()},
        "ciphers": {name: r.distribution for name, r in plugins.ciphers().items()},
        "codecs": {name: r.distribution for name, r in plugins.codecs().items()},
    }
    loaded = plugins.get_plugins()
    if as_json:
        json.dump({"plugins": loaded, **registered}, sys.stdout, indent=2)
        print()
        return 0
    for plugin in loaded:
        print(f"{plugin['distribution']} {plugin['version']}  {plugin['name']}  "
              f"hooks: {', '.join(plugin['hooks'])}")
    for kind, names in registered.items():
        print(f"{kind}: " + ", ".join(f"{n} ({d})" for n, d in sorted(names.items())))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
