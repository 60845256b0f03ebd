"""The committed sample company is exactly what the generator writes from the default seed."""

from __future__ import annotations

from marksell.paths import sample_dir
from marksell.sample.company import DEFAULT_SEED, write_company


def test_regenerating_the_sample_gives_the_committed_files_byte_for_byte(tmp_path):
    written = write_company(tmp_path, seed=DEFAULT_SEED)
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in sample_dir().iterdir() if p.is_file() and p.name in names)
    different = [n for n in names if (tmp_path / n).read_bytes() != (sample_dir() / n).read_bytes()]
    assert different == [], f"regenerated files differ from data/sample: {different} (run `make sample-data`)"
