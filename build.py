#!/usr/bin/env python3
"""The one entry point: validate, build, serve. All logic lives in the livingevidence package."""

import sys

from livingevidence.cli import main

if __name__ == "__main__":
    sys.exit(main())
