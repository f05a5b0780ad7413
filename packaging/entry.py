"""The frozen program's entry point: ``mlscope.__main__.main`` after multiprocessing's
freeze support (the mlruns reader's worker processes start the frozen program again)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from mlscope.__main__ import main

    sys.exit(main())
