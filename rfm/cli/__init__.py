"""The command line: ``python -m rfm`` (or ``rfm``) and one module per command, over the same library as the app."""

from rfm.cli.main import main

__all__ = ["main"]
