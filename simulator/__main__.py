"""`python -m simulator` does what the `dlrsim` command does."""

from simulator.cli import main

raise SystemExit(main())
