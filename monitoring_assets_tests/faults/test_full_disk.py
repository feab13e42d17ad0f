"""Fault: the disk fills while a stored object is written.

Before: the stored validated batch was left truncated and the previous good copy was gone; a
later labels refresh failed with "Parquet magic bytes not found". Now every stored object is
written under a temporary name and renamed into place. The disk is filled for real: the
writing process runs under a file-size limit (RLIMIT_FSIZE), so the kernel refuses the write
(EFBIG) as it would refuse it on a full volume (ENOSPC).
"""

import subprocess
import sys
import textwrap

import pandas as pd

WRITE_UNDER_LIMIT = textwrap.dedent("""
    import resource, signal, sys
    import dagster as dg
    import numpy as np
    import pandas as pd
    from monitoring_assets.resources import FrameIOManager, MonitoringStorage

    base, rows, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write raises OSError, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    frame = pd.DataFrame({"id": [f"row-{i}" for i in range(rows)], "value": np.random.default_rng(rows).random(rows)})

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"), io_manager_key="frame_io_manager")
    def validated_batch() -> pd.DataFrame:
        return frame

    result = dg.materialize([validated_batch], partition_key="2026-01-05", raise_on_error=False,
                            resources={"frame_io_manager": FrameIOManager(base_path=base + "/frames")})
    try:
        MonitoringStorage(root=base).write_quarantine("m", "2026-01-05", frame)
        quarantine = "written"
    except OSError as exc:
        quarantine = f"refused: {exc.strerror}"
    print("success" if result.success else "failed", "|", quarantine)
""")


def write(base, rows: int, limit: int) -> str:
    output = subprocess.run([sys.executable, "-c", WRITE_UNDER_LIMIT, str(base), str(rows), str(limit)],
                            capture_output=True, text=True, timeout=300)
    assert output.returncode == 0, output.stderr[-3000:]
    return output.stdout.strip().splitlines()[-1]


def test_a_write_that_runs_out_of_space_leaves_the_previous_copy_whole(tmp_path):
    limit = 200_000  # bytes: 1,000 rows fit, 50,000 rows do not
    assert write(tmp_path, 1_000, limit) == "success | written"
    stored = tmp_path / "frames" / "validated_batch" / "2026-01-05.parquet"
    quarantine = tmp_path / "m" / "quarantine" / "2026-01-05.parquet"
    before = (stored.read_bytes(), quarantine.read_bytes())

    outcome = write(tmp_path, 50_000, limit)
    assert outcome.startswith("failed | refused")

    # The previous copies are untouched and still read; no partial file is left beside them.
    assert (stored.read_bytes(), quarantine.read_bytes()) == before
    assert len(pd.read_parquet(stored)) == 1_000
    assert len(pd.read_parquet(quarantine)) == 1_000
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []
