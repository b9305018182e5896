"""What happened to a campaign's members: who churned in the outcome window, who was contacted.

Two sources, which `campaign record` combines:

- an outcomes file (CSV or Parquet) with customer_id and any of churned and contacted,
  each yes/no, 1/0 or true/false in any case (blank: unknown), e.g. the CRM's call log;
- the raw data after the campaign date: a member churned when they left within the
  outcome window (campaign date + horizon_days), under the one churn definition of
  features/population.py, as the model's labels are made.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from zerochurn.campaigns.store import OUTCOME_COLUMNS, Campaign, CampaignError
from zerochurn.configs.settings import ChurnConfig
from zerochurn.contract.cells import TableValueError, parse_labels
from zerochurn.contract.dataset import RawData
from zerochurn.contract.table import read_frame
from zerochurn.features.build import build_labels

SHOWN_IDS = 5
"""Ids an error names at most."""


def _shown(ids: list[str]) -> str:
    more = len(ids) - SHOWN_IDS
    return ", ".join(ids[:SHOWN_IDS]) + (f" and {more} more" if more > 0 else "")


def _yes_no(values: pd.Series, path: Path, column: str) -> pd.Series:
    try:
        return parse_labels(values, column).astype("boolean")
    except TableValueError as exc:
        raise CampaignError(
            f"{path}: column {column!r}: expected yes/no, 1/0 or true/false ({exc})"
        ) from exc


def read_outcomes_file(path: Path, members: pd.Series) -> pd.DataFrame:
    """OUTCOME_COLUMNS for every member from an outcomes file; <NA> where it says nothing.

    members: the campaign's customer ids. Raises CampaignError naming the file when it has
    no customer_id column, repeats an id or names customers outside the campaign.
    """
    frame = read_frame(path)
    if "customer_id" not in frame:
        raise CampaignError(
            f"{path}: no customer_id column; the columns are {', '.join(map(str, frame.columns))}"
        )
    frame = frame.assign(customer_id=frame["customer_id"].astype("str").str.strip())
    repeated = frame["customer_id"][frame["customer_id"].duplicated()].unique().tolist()
    if repeated:
        raise CampaignError(f"{path}: customer_id appears more than once: {_shown(repeated)}")
    strangers = sorted(set(frame["customer_id"]) - set(members))
    if strangers:
        raise CampaignError(
            f"{path}: {len(strangers)} customer(s) are not members of the campaign: "
            f"{_shown(strangers)}"
        )
    known = frame.set_index("customer_id")
    columns = {
        column: (
            _yes_no(known[column], path, column).reindex(members)
            if column in known
            else pd.Series(pd.NA, index=members, dtype="boolean")
        )
        for column in OUTCOME_COLUMNS[1:]
    }
    return pd.DataFrame(
        {"customer_id": members.to_numpy(), **{c: v.to_numpy() for c, v in columns.items()}}
    )


def observed_through(raw: RawData) -> dt.date:
    """The last day the raw data covers (the day before RawData.end)."""
    return (raw.end - pd.Timedelta(days=1)).date()


def churned_in_window(
    raw: RawData, campaign: Campaign, churn: ChurnConfig, members: pd.Series
) -> pd.Series:
    """(n,) "boolean": whether each member left within the campaign's outcome window.

    members: customer ids, whose order the result follows. Raises CampaignError when the
    data ends before the window does, or a member was not an active customer on the
    campaign date in this data.
    """
    if observed_through(raw) < campaign.window_end:
        raise CampaignError(
            f"campaign {campaign.name!r} is not yet measurable: its outcome window ends on "
            f"{campaign.window_end}, the data on {observed_through(raw)}"
        )
    window = churn.model_copy(update={"horizon_days": campaign.horizon_days})
    labels = build_labels(raw, pd.Timestamp(campaign.as_of), window).set_index("customer_id")
    absent = sorted(set(members) - set(labels.index))
    if absent:
        raise CampaignError(
            f"{len(absent)} member(s) of campaign {campaign.name!r} were not active customers "
            f"on {campaign.as_of} in this data: {_shown(absent)}"
        )
    return pd.Series(labels["churned"].reindex(members).to_numpy(), dtype="boolean")
