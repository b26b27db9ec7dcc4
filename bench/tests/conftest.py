"""Unit checks of the bench's own pieces (body builders, case tables, shape
checks); no Envoy or mock. Run: .venv/bin/python -m pytest bench/tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
