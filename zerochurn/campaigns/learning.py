"""What an uplift model learns from: the members of measured campaigns, with their features.

Each member contributes its feature row and churn probability on the campaign date, its
group, and whether it churned in the outcome window. Only campaigns that
measure.not_measurable_reason allows are used: outcomes covering the whole window, known
for every member, enough customers in each group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.campaigns.assign import TREATMENT
from zerochurn.campaigns.measure import not_measurable_reason
from zerochurn.campaigns.store import CampaignError, CampaignStore
from zerochurn.configs.settings import CampaignConfig


@dataclass(frozen=True)
class CampaignRows:
    """Members of measured campaigns, one row each, aligned across the fields.

    features: (n, columns) feature rows on each campaign's date (customer_id, as_of and the
    feature columns of the scores' model); campaign, customer_id: (n,) str;
    churn_probability: (n,) the churn model's probability then; treated: (n,) bool;
    churned: (n,) 0/1 int in the outcome window.
    """

    features: pd.DataFrame
    campaign: np.ndarray
    customer_id: np.ndarray
    churn_probability: np.ndarray
    treated: np.ndarray
    churned: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def names(self) -> list[str]:
        """The campaigns the rows come from, in order."""
        return list(dict.fromkeys(self.campaign.tolist()))


def campaign_rows(
    store: CampaignStore, names: Sequence[str] | None, config: CampaignConfig
) -> CampaignRows:
    """Rows of the named campaigns (None: every measurable one), in campaign then member order.

    Raises CampaignError when a named campaign is not measurable yet (saying why) or when
    no campaign is.
    """
    chosen = store.campaigns() if names is None else [store.get(name) for name in names]
    parts = []
    for campaign in chosen:
        outcomes = store.outcomes(campaign)
        reason = not_measurable_reason(campaign, outcomes, config)
        if reason is not None:
            if names is not None:
                raise CampaignError(f"campaign {campaign.name!r} is not measurable yet: {reason}")
            continue
        members = store.members(campaign).merge(outcomes, on="customer_id", validate="one_to_one")
        features = store.features(campaign).set_index("customer_id").loc[members["customer_id"]]
        parts.append((campaign.name, members, features.reset_index()))
    if not parts:
        raise CampaignError(
            f"no campaign in {store.folder} has measurable outcomes yet: record them with "
            "`zerochurn campaign record NAME` once the outcome window has passed"
        )
    return CampaignRows(
        features=pd.concat([features for _, _, features in parts], ignore_index=True),
        campaign=np.concatenate([np.full(len(m), name, dtype=object) for name, m, _ in parts]),
        customer_id=np.concatenate([m["customer_id"].to_numpy(dtype=object) for _, m, _ in parts]),
        churn_probability=np.concatenate(
            [m["churn_probability"].to_numpy(dtype=np.float64) for _, m, _ in parts]
        ),
        treated=np.concatenate([(m["group"] == TREATMENT).to_numpy() for _, m, _ in parts]),
        churned=np.concatenate([m["churned"].to_numpy(dtype=np.int64) for _, m, _ in parts]),
    )
