"""WorldParameters: every number that shapes the synthetic world, documented in one place.

Latent experience is measured in "latent units": one unit is about one standard deviation
of the noise in a single survey answer. Rates are per customer per month unless a field
says otherwise; money is in the world's currency units.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from zerochurn.contract.schema import SURVEY_DIMENSIONS, SURVEY_ITEMS


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupParameters(_Frozen):
    """A region, segment or plan: how common it is and how it shifts experience and churn."""

    share: float = Field(
        ge=0,
        description="Relative weight in the initial base and in the regular monthly arrivals; "
        "normalised within the group. 0 for a segment that only arrives through drift.",
    )
    experience_shift: float = Field(
        0.0, description="Added to every latent experience dimension (latent units)."
    )
    hazard_shift: float = Field(0.0, description="Added to the monthly churn log-odds.")


class SegmentParameters(GroupParameters):
    """A customer type: its economics and how well it is served."""

    monthly_revenue: float = Field(
        gt=0,
        description="Median monthly revenue (currency units) of an established, "
        "median-sized standard-plan customer at list price 1.",
    )
    cost_ratio: float = Field(
        gt=0, lt=1, description="Median cost / amount; the margin share is 1 - cost_ratio."
    )
    complaint_multiplier: float = Field(1.0, gt=0, description="Multiplies the complaint rate.")
    handling_multiplier: float = Field(
        1.0,
        gt=0,
        description="Multiplies resolution time and the chance a complaint is never resolved.",
    )


class PlanParameters(GroupParameters):
    """A service plan (tariff)."""

    revenue_multiplier: float = Field(gt=0, description="Multiplies monthly revenue.")


class DimensionParameters(_Frozen):
    """One survey dimension of the latent experience."""

    mean: float = Field(description="Population mean of the latent experience (latent units).")
    satisfaction_weight: float = Field(
        ge=0, description="Weight in overall satisfaction, the weighted mean of the dimensions."
    )


class PopulationParameters(_Frozen):
    """Who the customers are and how they arrive."""

    regions: dict[str, GroupParameters] = Field(
        default_factory=lambda: {
            "north": GroupParameters(share=0.25, experience_shift=0.05),
            "south": GroupParameters(share=0.25),
            "east": GroupParameters(share=0.20, experience_shift=0.05),
            "west": GroupParameters(share=0.20, experience_shift=-0.05),
            "in_province": GroupParameters(share=0.10, experience_shift=-0.20, hazard_shift=0.05),
        },
        description="Sales regions.",
    )
    segments: dict[str, SegmentParameters] = Field(
        default_factory=lambda: {
            "hospital": SegmentParameters(
                share=0.15,
                monthly_revenue=15_000,
                cost_ratio=0.80,
                experience_shift=0.10,
                hazard_shift=-0.25,
            ),
            "pharmacy_chain": SegmentParameters(
                share=0.20,
                monthly_revenue=25_000,
                cost_ratio=0.88,
                experience_shift=0.05,
                complaint_multiplier=0.9,
                handling_multiplier=0.9,
            ),
            "independent_pharmacy": SegmentParameters(
                share=0.35, monthly_revenue=2_500, cost_ratio=0.76, hazard_shift=0.10
            ),
            "clinic": SegmentParameters(
                share=0.15,
                monthly_revenue=3_500,
                cost_ratio=0.74,
                experience_shift=0.05,
                complaint_multiplier=0.9,
            ),
            "in_province_distributor": SegmentParameters(
                share=0.15,
                monthly_revenue=9_000,
                cost_ratio=0.91,
                experience_shift=-0.45,
                complaint_multiplier=1.4,
                handling_multiplier=1.5,
            ),
            "online_pharmacy": SegmentParameters(
                share=0.0,
                monthly_revenue=4_000,
                cost_ratio=0.84,
                experience_shift=0.15,
                hazard_shift=0.45,
                complaint_multiplier=1.2,
            ),
        },
        description="Customer types; in_province_distributor is the worse-served one "
        "(domain.md section 1), online_pharmacy arrives only with the new_segment drift.",
    )
    plans: dict[str, PlanParameters] = Field(
        default_factory=lambda: {
            "basic": PlanParameters(
                share=0.40, revenue_multiplier=0.8, experience_shift=-0.10, hazard_shift=0.15
            ),
            "standard": PlanParameters(share=0.40, revenue_multiplier=1.0),
            "premium": PlanParameters(
                share=0.20, revenue_multiplier=1.3, experience_shift=0.15, hazard_shift=-0.20
            ),
        },
        description="Service plans.",
    )
    history_years: float = Field(
        15.0,
        gt=0,
        description="Years before the start over which the initial base signed up: it is "
        "what is left of customers who arrived at a steady rate over that time and churned "
        "with the world's hazard, so long tenure goes with lower risk.",
    )
    warmup_months: int = Field(
        12,
        ge=1,
        description="Months simulated, unrecorded, before the start so that the initial "
        "base's experience drift and complaint grievance are at their steady state.",
    )
    monthly_arrival_rate: float = Field(
        0.02,
        ge=0,
        description="Expected regular new customers per month, as a share of the initial base.",
    )
    size_sd: float = Field(
        0.6, ge=0, description="Standard deviation of log customer size (revenue scale)."
    )

    @model_validator(mode="after")
    def _some_share(self) -> PopulationParameters:
        for name in ("regions", "segments", "plans"):
            groups: dict[str, GroupParameters] = getattr(self, name)
            if sum(g.share for g in groups.values()) <= 0:
                raise ValueError(f"{name} shares sum to 0: at least one must be positive")
        return self


def _default_dimensions() -> dict[str, DimensionParameters]:
    means_and_weights = {
        "product_quality": (0.30, 0.25),
        "price": (-0.35, 0.12),
        "assortment": (0.15, 0.10),
        "staff_attitude": (-0.1, 0.08),
        "invoicing": (0.20, 0.07),
        "logistics": (-0.25, 0.12),
        "problem_handling": (-0.15, 0.09),
        "complaint_handling": (-0.65, 0.10),
        "business_process": (-0.1, 0.07),
    }
    return {
        name: DimensionParameters(mean=mean, satisfaction_weight=weight)
        for name, (mean, weight) in means_and_weights.items()
    }


class ExperienceParameters(_Frozen):
    """The latent experience per dimension and how survey answers are drawn from it."""

    dimensions: dict[str, DimensionParameters] = Field(
        default_factory=_default_dimensions,
        description="One entry per survey dimension; weights follow the ACSI idea that "
        "perceived quality drives satisfaction most (domain.md section 4).",
    )
    item_offsets: dict[str, float] = Field(
        default_factory=lambda: {
            "product_shelf_life": 0.10,
            "order_fulfilment_rate": -0.2,
            "freight_station_attitude": -0.55,
            "delivery_speed": -0.15,
            "complaint_followup": -0.15,
            "returns_process": -0.15,
        },
        description="Added to an item's latent answer (latent units); items not listed get 0.",
    )
    person_sd: float = Field(
        0.45, ge=0, description="SD of a customer's general mood, shared by all dimensions."
    )
    dimension_sd: float = Field(
        0.30, ge=0, description="SD of a customer's own level on each dimension."
    )
    persistence: float = Field(
        0.94,
        ge=0,
        lt=1,
        description="Monthly AR(1) coefficient of the slow drift of each dimension.",
    )
    innovation_sd: float = Field(
        0.085, ge=0, description="SD of the monthly innovation of that drift (latent units)."
    )
    answer_noise_sd: float = Field(
        0.60, gt=0, description="SD of the noise added to each survey answer's latent value."
    )
    grade_cutpoints: tuple[float, float, float] = Field(
        (-1.2, -0.35, 0.85),
        description="Latent thresholds D|C, C|B and B|A of an answer (latent units).",
    )
    price_sensitivity: float = Field(
        4.0,
        ge=0,
        description="Drop in price experience per unit of excess year-over-year log price "
        "change (beyond the usual annual increase).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ExperienceParameters:
        if set(self.dimensions) != set(SURVEY_DIMENSIONS):
            raise ValueError(
                f"dimensions must be exactly {SURVEY_DIMENSIONS}, got {sorted(self.dimensions)}"
            )
        if sum(d.satisfaction_weight for d in self.dimensions.values()) <= 0:
            raise ValueError("satisfaction weights must sum to more than 0")
        unknown = sorted(set(self.item_offsets) - set(SURVEY_ITEMS))
        if unknown:
            raise ValueError(f"item_offsets has unknown items {unknown}: expected survey items")
        if list(self.grade_cutpoints) != sorted(self.grade_cutpoints):
            raise ValueError(f"grade_cutpoints must increase, got {self.grade_cutpoints}")
        return self


class RevenueParameters(_Frozen):
    """Monthly revenue and cost per customer."""

    new_customer_revenue_share: float = Field(
        0.6, gt=0, le=1, description="Revenue in the signup month relative to an established one."
    )
    ramp_months: float = Field(
        6.0, gt=0, description="e-folding time (months) of the ramp up to full revenue."
    )
    seasonal_amplitude: float = Field(
        0.08, ge=0, lt=1, description="Relative amplitude of the yearly revenue cycle."
    )
    seasonal_peak_month: int = Field(
        1, ge=1, le=12, description="Calendar month of peak demand (1 = January, flu season)."
    )
    noise_sd: float = Field(0.15, ge=0, description="SD of monthly log-revenue noise.")
    cost_noise_sd: float = Field(0.03, ge=0, description="SD of monthly log cost-ratio noise.")
    annual_price_increase: float = Field(
        0.03, ge=0, description="List price increase applied every year (fraction)."
    )
    price_increase_month: int = Field(
        1, ge=1, le=12, description="Calendar month the annual price increase takes effect."
    )
    satisfaction_effect: float = Field(
        0.15,
        ge=0,
        description="Log-revenue per unit of overall satisfaction: unhappy customers move "
        "part of their purchases elsewhere.",
    )


class SurveyParameters(_Frozen):
    """Who answers the quarterly survey and when."""

    months_of_year: tuple[int, ...] = Field(
        (3, 6, 9, 12), description="Calendar months in which the survey runs."
    )
    response_rate: float = Field(
        0.35, gt=0, le=1, description="Mean share of active customers answering a survey."
    )
    strategic_tilt: float = Field(
        0.5,
        ge=0,
        le=1,
        description="How much more the biggest customers answer: the answer probability is "
        "response_rate * (1 + tilt * (2 * revenue_rank - 1)), revenue_rank in [0, 1].",
    )


class CategoryParameters(_Frozen):
    """A complaint category: what it is about and who owns it."""

    dimension: str = Field(description="Survey dimension whose poor experience causes it.")
    department: str = Field(description="Department the complaint is routed to.")
    weight: float = Field(gt=0, description="Relative frequency at neutral experience.")


class DepartmentParameters(_Frozen):
    """A department that owns complaints (domain.md section 2)."""

    sla_days: int = Field(gt=0, description="Days from opening to the resolution due date.")
    median_resolution_ratio: float = Field(
        gt=0, description="Median days to resolve as a share of sla_days (1 = on the due day)."
    )
    unresolved_probability: float = Field(
        ge=0, le=1, description="Chance a complaint is never resolved."
    )
    followup_probability: float = Field(
        ge=0, le=1, description="Chance a resolved complaint gets a follow-up call."
    )


def _default_categories() -> dict[str, CategoryParameters]:
    table = {
        "delivery": ("logistics", "logistics", 0.28),
        "stock_shortage": ("assortment", "logistics", 0.12),
        "product_defect": ("product_quality", "quality", 0.14),
        "invoice_error": ("invoicing", "finance", 0.14),
        "pricing": ("price", "sales", 0.12),
        "staff_behaviour": ("staff_attitude", "customer_service", 0.10),
        "returns": ("business_process", "customer_service", 0.10),
    }
    return {
        name: CategoryParameters(dimension=dim, department=dept, weight=weight)
        for name, (dim, dept, weight) in table.items()
    }


def _default_departments() -> dict[str, DepartmentParameters]:
    table = {
        "logistics": (5, 0.9, 0.06, 0.45),
        "sales": (7, 0.8, 0.05, 0.55),
        "finance": (10, 1.1, 0.08, 0.40),
        "quality": (14, 1.0, 0.10, 0.50),
        "customer_service": (3, 0.7, 0.04, 0.70),
    }
    return {
        name: DepartmentParameters(
            sla_days=sla,
            median_resolution_ratio=ratio,
            unresolved_probability=unresolved,
            followup_probability=followup,
        )
        for name, (sla, ratio, unresolved, followup) in table.items()
    }


class ComplaintParameters(_Frozen):
    """How often customers complain and how the complaint process treats them."""

    monthly_rate: float = Field(
        0.07, ge=0, description="Complaints per customer per month at overall satisfaction 0."
    )
    satisfaction_effect: float = Field(
        0.8, ge=0, description="Log complaint rate per unit of overall dissatisfaction."
    )
    category_sensitivity: float = Field(
        1.0,
        ge=0,
        description="Log-odds of a category per unit of poor experience in its dimension.",
    )
    channels: dict[str, float] = Field(
        default_factory=lambda: {"hotline": 0.45, "email": 0.30, "sales_rep": 0.25},
        description="Relative frequency of each channel a complaint arrives through.",
    )
    categories: dict[str, CategoryParameters] = Field(default_factory=_default_categories)
    departments: dict[str, DepartmentParameters] = Field(default_factory=_default_departments)
    resolution_sd: float = Field(
        0.6, ge=0, description="SD of log resolution time around its median."
    )
    followup_max_days: int = Field(
        7, gt=0, description="Follow-up calls come 1..followup_max_days days after resolution."
    )
    followup_on_time_bonus: float = Field(
        0.8, ge=0, description="Latent boost of the follow-up grade when resolved on time."
    )
    followup_noise_sd: float = Field(0.7, gt=0, description="SD of the follow-up grade noise.")
    grievance_per_complaint: float = Field(
        0.3, ge=0, description="Grievance added by any complaint (hazard units, see churn)."
    )
    grievance_late: float = Field(0.4, ge=0, description="Extra grievance if resolved late.")
    grievance_unresolved: float = Field(1.0, ge=0, description="Extra grievance if never resolved.")
    grievance_no_followup: float = Field(
        0.3, ge=0, description="Extra grievance if nobody called back."
    )
    grievance_persistence: float = Field(
        0.85, ge=0, lt=1, description="Share of grievance left after a month."
    )
    handling_experience_effect: float = Field(
        0.3,
        ge=0,
        description="Drop in complaint-handling experience per unit of new grievance.",
    )

    @model_validator(mode="after")
    def _departments_known(self) -> ComplaintParameters:
        for name, category in self.categories.items():
            if category.department not in self.departments:
                raise ValueError(
                    f"category {name!r} routes to unknown department {category.department!r}: "
                    f"expected one of {sorted(self.departments)}"
                )
            if category.dimension not in SURVEY_DIMENSIONS:
                raise ValueError(
                    f"category {name!r} has unknown dimension {category.dimension!r}: "
                    f"expected one of {SURVEY_DIMENSIONS}"
                )
        return self


class ChurnParameters(_Frozen):
    """The monthly churn hazard: log-odds = intercept + group shifts + these effects."""

    intercept: float = Field(-4.2, description="Log-odds of churning in a month, at baseline.")
    satisfaction_effect: float = Field(
        -1.8, le=0, description="Log-odds per unit of overall satisfaction."
    )
    price_experience_effect: float = Field(
        -0.3, le=0, description="Extra log-odds per unit of price experience (perceived value)."
    )
    grievance_effect: float = Field(
        0.8, ge=0, description="Log-odds per unit of grievance from badly handled complaints."
    )
    new_customer_effect: float = Field(
        1.0, ge=0, description="Extra log-odds at tenure 0; decays with new_customer_months."
    )
    new_customer_months: float = Field(
        6.0, gt=0, description="e-folding time (months) of the new-customer effect."
    )
    size_effect: float = Field(-0.15, le=0, description="Log-odds per unit of log size.")
    price_shock_effect: float = Field(
        2.0,
        ge=0,
        description="Log-odds per unit of excess year-over-year log price change.",
    )
    frailty_sd: float = Field(
        0.6, ge=0, description="SD of each customer's unobserved log-odds offset."
    )


class DriftParameters(_Frozen):
    """Size of each drift scenario (configs.settings.DriftScenario)."""

    price_increase: float = Field(
        0.12, gt=0, description="price_increase: extra list price increase (fraction)."
    )
    outage_complaint_multiplier: float = Field(
        2.5, ge=1, description="service_outage: multiplies the complaint rate."
    )
    outage_resolution_multiplier: float = Field(
        1.8, ge=1, description="service_outage: multiplies resolution time."
    )
    outage_unresolved_multiplier: float = Field(
        2.0, ge=1, description="service_outage: multiplies the never-resolved chance."
    )
    outage_logistics_shift: float = Field(
        -0.5, le=0, description="service_outage: shift of logistics experience (latent units)."
    )
    new_segment: str = Field(
        "online_pharmacy", description="new_segment: the segment that starts arriving."
    )
    new_segment_arrival_rate: float = Field(
        0.02,
        gt=0,
        description="new_segment: its expected arrivals per month, as a share of the "
        "initial base (on top of the regular arrivals).",
    )


class RetentionActionParameters(_Frozen):
    """The retention action `generate --campaign NAME` applies to a campaign's treatment group.

    An account manager calls the customer and resolves and follows up what went wrong with
    their complaints: the action clears part of the complaint grievance (see
    ComplaintParameters) on the campaign date, and nothing else. The cleared part fades as
    grievance does (grievance_persistence per month), so the effect is largest for customers
    whose risk comes from badly handled complaints and none for customers whose risk comes
    from price, satisfaction or their own frailty (synthetic/action.py).
    """

    grievance_relief: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Share of a treated customer's complaint grievance the action clears.",
    )


class WorldParameters(_Frozen):
    """All parameters of the synthetic world; the defaults give about 20% annual churn."""

    population: PopulationParameters = PopulationParameters()
    experience: ExperienceParameters = ExperienceParameters()
    revenue: RevenueParameters = RevenueParameters()
    surveys: SurveyParameters = SurveyParameters()
    complaints: ComplaintParameters = ComplaintParameters()
    churn: ChurnParameters = ChurnParameters()
    drift: DriftParameters = DriftParameters()
    retention_action: RetentionActionParameters = RetentionActionParameters()

    @model_validator(mode="after")
    def _new_segment_known(self) -> WorldParameters:
        if self.drift.new_segment not in self.population.segments:
            raise ValueError(
                f"drift.new_segment {self.drift.new_segment!r} is not a segment: "
                f"expected one of {sorted(self.population.segments)}"
            )
        return self
