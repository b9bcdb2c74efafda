"""``python -m tapegrad``: the training command, the same as ``tapegrad-train``."""
import sys

from .train import main

sys.exit(main(prog="python -m tapegrad"))
