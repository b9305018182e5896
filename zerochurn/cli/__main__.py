"""`python -m zerochurn.cli`: the same command line as the `zerochurn` script."""

from zerochurn.cli.app import app

if __name__ == "__main__":
    app()
