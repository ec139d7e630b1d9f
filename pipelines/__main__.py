"""`python -m pipelines` is `evenergy-etl`."""

import sys

from pipelines.cli import main

sys.exit(main())
