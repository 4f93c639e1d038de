"""``python -m cua`` runs the ``cua`` command line."""

from cua.cli import main

if __name__ == "__main__":
    main()
