"""The ``eventstore`` command: look inside a store, move it, check it, follow it.

The commands need the ``cli`` extra (``pip install 'eventstore-core[cli]'``: click and
rich); importing ``eventstore_core`` never imports them. ``main`` turns every error into one
line on standard error and an exit status (1 error, 2 bad usage, 130 interrupted), with the
traceback only under ``--debug``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from ..exceptions import EventStoreError
from ..urls import redact

EXTRA_HINT = "the eventstore command needs its extra: pip install 'eventstore-core[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        import click

        from .commands import cli
    except ImportError as error:
        print(f"eventstore: {EXTRA_HINT} ({error})", file=sys.stderr)
        return 2
    try:
        # not standalone: click returns an Exit's status (verify's 1) instead of exiting
        status = cli.main(args=args, prog_name="eventstore", standalone_mode=False)
        return status if isinstance(status, int) else 0
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        print("eventstore: interrupted", file=sys.stderr)
        return 130
    except click.UsageError as error:  # one line, naming the command and where help is
        where = error.ctx.command_path if error.ctx is not None else "eventstore"
        print(f"{where}: {error.format_message()} (see: {where} --help)", file=sys.stderr)
        return error.exit_code
    except click.ClickException as error:
        print(f"eventstore: error: {error.format_message()}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("eventstore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. "eventstore read ... | head"
        return 0
    except Exception as error:
        if debug:
            traceback.print_exc()
        if type(error).__name__ == "Interrupted":  # asked for: not an error
            print(f"eventstore: {error}", file=sys.stderr)
            return 130
        print(f"eventstore: {_describe(error)}", file=sys.stderr)
        return 1


def _describe(error: Exception) -> str:
    """One line: the project's own errors as they are, others with their type."""
    text = " ".join(str(error).split()) or repr(error)
    if isinstance(error, EventStoreError):
        return f"error: {text}"
    return f"error: {type(error).__name__}: {redact(text)}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
