"""Campaign records that survive a killed writer: who was targeted, held out and what happened.

Under the campaigns folder (Settings.campaigns_dir):

- campaigns.jsonl: the journal (zerochurn/journal.py), one line per event: "created" (the
  campaign: name, dates, model version, selection, randomisation, counts) and "outcomes"
  (a recording of what happened; the latest one counts);
- <name>/members.parquet: every member's scores at the campaign date and group;
  <name>/features.parquet: their feature rows then (what an uplift model learns from);
  <name>/treatment.csv: the treatment group's list for the retention team;
- <name>/outcomes-<n>.parquet: the n-th recording of outcomes (customer_id, churned,
  contacted).

Every file an event names is written whole and durably (journal.write_file) before the
event's line is appended, and the line is the commit: a campaign exists once its line is
on disk, with all its files. A writer killed earlier leaves files no line names, which the
next writer of that name replaces. Writers hold an exclusive lock on <folder>/.lock, so two
`campaign create` of one name cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from zerochurn.campaigns.assign import CONTROL, GROUPS, TREATMENT
from zerochurn.journal import append_record, read_records, write_file

JOURNAL_FILE = "campaigns.jsonl"
LOCK_FILE = ".lock"
MEMBERS_FILE = "members.parquet"
FEATURES_FILE = "features.parquet"
TREATMENT_FILE = "treatment.csv"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A campaign name: a folder name on any system, so letters, digits, '_', '.', '-'."""
OUTCOME_COLUMNS = ("customer_id", "churned", "contacted")
"""Columns of a recording of outcomes: churned and contacted are "boolean" (<NA>: unknown)."""


class CampaignError(ValueError):
    """A campaign cannot be created, found or recorded; the message says why."""


@dataclass(frozen=True)
class OutcomesRecord:
    """A recording of what happened to a campaign's members.

    source: where the outcomes came from (a file, or the data folder they were derived
    from); observed_through: the last day (YYYY-MM-DD) the outcomes cover; file: the
    outcomes table, relative to the campaigns folder; contacted_known: whether it says who
    was contacted.
    """

    recorded_at: str
    source: str
    observed_through: str
    file: str
    customers: int
    contacted_known: bool


@dataclass(frozen=True)
class Campaign:
    """A recorded campaign.

    as_of: the campaign date (YYYY-MM-DD), the as-of date of the scores it was drawn from;
    horizon_days: its outcome window, the churn horizon; selection: the at-risk query it
    took its members from; value_column: the score column whose money a saved customer is
    worth (clv when the scores have it, else customer_value); outcomes: the latest
    recording, None before any.
    """

    name: str
    created_at: str
    as_of: str
    model_version: str
    horizon_days: int
    holdout: float
    seed: int
    selection: dict[str, Any]
    customers: int
    treatment: int
    control: int
    value_column: str
    outcomes: OutcomesRecord | None = None

    @property
    def window_end(self) -> dt.date:
        """The last day of the outcome window: as_of + horizon_days - 1."""
        return dt.date.fromisoformat(self.as_of) + dt.timedelta(days=self.horizon_days - 1)


_CAMPAIGN_FIELDS = tuple(f.name for f in fields(Campaign) if f.name != "outcomes")


def check_name(name: str) -> str:
    """`name` if it can name a campaign, else CampaignError saying what is allowed."""
    if not NAME_PATTERN.fullmatch(name):
        raise CampaignError(
            f"campaign name {name!r}: expected 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    write_file(path, lambda tmp: frame.to_parquet(tmp, index=False))


class CampaignStore:
    """The campaign records under `folder` (which may not exist yet)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def journal(self) -> Path:
        return self.folder / JOURNAL_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the folder's writer lock (released when the process ends, even if killed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def campaigns(self) -> list[Campaign]:
        """Every recorded campaign, oldest first, each with its latest outcomes."""
        if not self.journal.is_file():
            return []
        found: dict[str, Campaign] = {}
        for record in read_records(self.journal):
            if record["event"] == "created":
                found[record["name"]] = Campaign(**{k: record[k] for k in _CAMPAIGN_FIELDS})
            elif record["event"] == "outcomes":
                outcomes = OutcomesRecord(
                    **{f.name: record[f.name] for f in fields(OutcomesRecord)}
                )
                found[record["name"]] = replace(found[record["name"]], outcomes=outcomes)
        return list(found.values())

    def get(self, name: str) -> Campaign:
        """The campaign called `name`; CampaignError naming the known ones when there is none."""
        known = {campaign.name: campaign for campaign in self.campaigns()}
        if name not in known:
            listed = ", ".join(sorted(known)) or "none yet"
            raise CampaignError(f"no campaign {name!r} in {self.folder} (campaigns: {listed})")
        return known[name]

    def path(self, campaign: Campaign | str, file: str) -> Path:
        """Path of one of a campaign's files (MEMBERS_FILE, FEATURES_FILE, TREATMENT_FILE)."""
        name = campaign if isinstance(campaign, str) else campaign.name
        return self.folder / name / file

    def members(self, campaign: Campaign) -> pd.DataFrame:
        """Every member: customer_id, group, then the scores of the at-risk list then."""
        return pd.read_parquet(self.path(campaign, MEMBERS_FILE))

    def features(self, campaign: Campaign) -> pd.DataFrame:
        """The members' feature rows at the campaign date (customer_id, as_of, features)."""
        return pd.read_parquet(self.path(campaign, FEATURES_FILE))

    def outcomes(self, campaign: Campaign) -> pd.DataFrame | None:
        """The latest recorded outcomes (OUTCOME_COLUMNS), or None before any."""
        if campaign.outcomes is None:
            return None
        return pd.read_parquet(self.folder / campaign.outcomes.file)

    def create(self, campaign: Campaign, members: pd.DataFrame, features: pd.DataFrame) -> Campaign:
        """Record a new campaign with its members and their features; return it.

        members: customer_id, group (assign.GROUPS) and the score columns; features: the
        members' feature rows. Raises CampaignError when the name is taken or the members
        do not match the campaign's counts. Returns only once the record is on disk.
        """
        check_name(campaign.name)
        groups = members["group"].value_counts()
        counts = (len(members), int(groups.get(TREATMENT, 0)), int(groups.get(CONTROL, 0)))
        expected = (campaign.customers, campaign.treatment, campaign.control)
        if counts != expected or not members["group"].isin(GROUPS).all():
            raise CampaignError(
                f"campaign {campaign.name!r}: members have (customers, treatment, control) "
                f"{counts}, the record says {expected}"
            )
        with self._locked():
            if any(c.name == campaign.name for c in self.campaigns()):
                raise CampaignError(
                    f"campaign {campaign.name!r} exists in {self.folder}: choose another name"
                )
            _write_parquet(members, self.path(campaign, MEMBERS_FILE))
            _write_parquet(features, self.path(campaign, FEATURES_FILE))
            treatment = members[members["group"] == TREATMENT].drop(columns="group")
            write_file(
                self.path(campaign, TREATMENT_FILE), lambda tmp: treatment.to_csv(tmp, index=False)
            )
            record = {k: v for k, v in asdict(campaign).items() if k != "outcomes"}
            append_record(self.journal, {"event": "created", **record})
        return campaign

    def record_outcomes(
        self, name: str, outcomes: pd.DataFrame, *, source: str, observed_through: dt.date
    ) -> Campaign:
        """Record what happened to campaign `name`'s members; return the updated campaign.

        outcomes: OUTCOME_COLUMNS, one row per member (every member once). The recording
        replaces earlier ones for measurement; they stay in the journal.
        """
        with self._locked():
            campaign = self.get(name)
            members = self.members(campaign)["customer_id"]
            ids = outcomes["customer_id"]
            if len(ids) != len(members) or set(ids) != set(members):
                missing = sorted(set(members) - set(ids))
                raise CampaignError(
                    f"outcomes of campaign {name!r} cover {ids.nunique()} of its "
                    f"{len(members)} members"
                    + (f"; missing e.g. {', '.join(missing[:5])}" if missing else "")
                )
            number = 1 + sum(
                1
                for record in read_records(self.journal)
                if record["event"] == "outcomes" and record["name"] == name
            )
            relative = f"{name}/outcomes-{number}.parquet"
            _write_parquet(outcomes.loc[:, list(OUTCOME_COLUMNS)], self.folder / relative)
            record = OutcomesRecord(
                recorded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                source=source,
                observed_through=observed_through.isoformat(),
                file=relative,
                customers=len(outcomes),
                contacted_known=bool(outcomes["contacted"].notna().any()),
            )
            append_record(self.journal, {"event": "outcomes", "name": name, **asdict(record)})
        return replace(campaign, outcomes=record)
