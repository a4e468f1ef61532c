"""`python -m bots` runs the same command line as the `bots` script."""

from bots.app.cli import main

raise SystemExit(main())
