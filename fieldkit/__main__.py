"""``python -m fieldkit`` runs the same entry point as the ``fieldkit`` console script."""

from fieldkit.cli.main import main

if __name__ == "__main__":
    main()
