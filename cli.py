"""The `presse` command: a thin click layer over the corpus, indexer and search libraries.

Each command parses its options, makes one library call and prints the result; the libraries do the work.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="presse")
def main() -> None:
    """presse: full-text search for press statements in French and English."""


# Commands are added below, one per library entry point.


if __name__ == "__main__":
    main()
