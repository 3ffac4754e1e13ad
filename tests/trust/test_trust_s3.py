"""The trust's dataset in object storage: written to a real SeaweedFS S3 server, read back
by pyarrow's own S3 filesystem, and the trust report made from it."""
from __future__ import annotations

import pyarrow.dataset as ds
import pyarrow.fs as pafs

from dataward.trust.config import load_trust
from dataward.trust.results import write_parts
from dataward.trust.scan import prepare_school, scan_part

from ..backup.conftest import _s3_env, s3_client, seaweed_s3  # noqa: F401 - the real S3 server


def test_results_written_to_s3_are_read_without_dataward(make_trust, seaweed_s3, monkeypatch,  # noqa: F811
                                                         tmp_path, cli):
    _s3_env(monkeypatch)
    s3_client(seaweed_s3).create_bucket(Bucket="trust-results")
    path = make_trust(1, results="s3://trust-results/nightly", s3_endpoint=seaweed_s3)
    trust = load_trust(path)
    parts = [scan_part(trust, p) for p in prepare_school(trust, "school1")]
    written = write_parts(trust, parts)
    assert written.items == sum(p.items for p in parts) > 0

    fs = pafs.S3FileSystem(endpoint_override=seaweed_s3.removeprefix("http://"), scheme="http",
                           access_key="dataward-test", secret_key="dataward-test-secret",
                           region="eu-west-2")
    items = ds.dataset("trust-results/nightly/items", filesystem=fs, format="parquet",
                       partitioning="hive").to_table()
    assert items.num_rows == written.items
    assert set(items["school"].to_pylist()) == {"school1"}
    names = {i.path.rsplit("/", 1)[-1] for i in fs.get_file_info(
        pafs.FileSelector("trust-results/nightly/items", recursive=True)) if i.is_file}
    assert names == {f"{p.part}.parquet" for p in parts}

    # Written again the same day: each part's object replaced, never a second copy.
    write_parts(trust, parts)
    again = ds.dataset("trust-results/nightly/items", filesystem=fs, format="parquet",
                       partitioning="hive").to_table()
    assert again.num_rows == written.items

    result = cli("report", "--trust", path, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert f"{written.items} items" in result.output or f"of {written.items} items" in result.output
