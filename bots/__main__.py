"""`python -m bots` runs the same command line as the `bots` script."""

from bots.cli import main

raise SystemExit(main())
