import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real benchmark files (CI sets MMC_DATA_DIR to ../shared/data)."""
    path = Path(os.environ.get("MMC_DATA_DIR") or REPO.parent / "shared" / "data")
    if not (path / "MANIFEST.md").is_file():
        pytest.skip(f"shared data not found at {path}")
    return path
