"""``python -m drillbook`` runs the command line."""

from drillbook.cli.main import main

main()
