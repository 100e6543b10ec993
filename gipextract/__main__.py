"""``python -m gipextract``: the command line (:mod:`gipextract.cli`)."""

from gipextract.cli import main

if __name__ == "__main__":
    main(prog_name="gipextract")
