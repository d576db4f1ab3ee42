"""Entry point of ``python -m planning``."""
import sys

from planning.cli import main

sys.exit(main())
