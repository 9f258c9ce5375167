"""`python -m model ...` runs the command line."""

from model.cli import main

main()
