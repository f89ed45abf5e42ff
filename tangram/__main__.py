"""``python -m tangram`` runs the command-line interface."""

from tangram.cli import main

main()
