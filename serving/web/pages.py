"""The workspace's pages: each parses its query, calls the library function the JSON API or
the CLI calls, and renders a template. Nothing here computes a figure of its own.

| page | calls |
|---|---|
| at-risk list, CSV | `ScoringRuntime.at_risk` (/at_risk), `batch.at_risk_list` (zerochurn at-risk) |
| customer | `ScoringRuntime.score_customers` (/score_customers), the customer index, score history |
| segments | `ScoringRuntime.churn_index` (/churn_index) |
| satisfaction, complaints | the report functions of zerochurn/reports (zerochurn report) |
| model health | `ScoringRuntime.model_info` (/model_info), the registry, the latest monitoring run |

Pages are plain functions run in a worker thread (session.login_required); sign-in and
sign-out are the only coroutines.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from zerochurn.features.catalog import column_spec
from zerochurn.serving.batch import at_risk_list
from zerochurn.serving.scoring import PROFILE_COLUMNS
from zerochurn.serving.store import SnapshotMissingError
from zerochurn.serving.web.at_risk import filter_options, pages, parse_form
from zerochurn.serving.web.charts import Chart, bar_chart, line_chart
from zerochurn.serving.web.customer_page import complaint_views, revenue_months, survey_grid
from zerochurn.serving.web.folder import SATISFACTION_GROUPS, DataUnavailableError
from zerochurn.serving.web.health import MONITORING_FOLDER, SHOWN_METRICS
from zerochurn.serving.web.rendering import (
    money,
    number,
    percent,
    render,
    shown_path,
    web_state,
)
from zerochurn.serving.web.session import (
    SIGN_IN,
    csrf_ok,
    login_required,
    matching_fingerprint,
    safe_next,
    signed_in,
    start_session,
)

CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"
"""A report chart is matplotlib's SVG, which styles itself inline and runs no script."""
REPORT_CSP = "sandbox allow-scripts"
"""An Evidently report runs its own inline scripts, sandboxed: no access to the session."""
MONITORING_FILES = frozenset(
    {
        "drift.html",
        "performance.html",
        "drift.png",
        "prediction.png",
        "calibration.png",
        "trend.png",
    }
)
"""Files of a monitoring run folder the workspace serves."""
RUN_NAME = re.compile(r"[0-9A-Za-z.]+")
"""A monitoring run's folder name (its UTC time, e.g. 20261124T194044.487974Z)."""
INDEX_REFERENCE = {"average (100)": 100.0}


def _refused() -> Response:
    return Response(
        "This form has expired or did not come from the workspace: reload the page and try again.",
        status_code=403,
        media_type="text/plain",
    )


def _partial(request: Request) -> bool:
    """An htmx request for part of a page (not htmx restoring a page from history)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get(
        "hx-history-restore-request"
    )


async def signin_form(request: Request) -> Response:
    """The sign-in page; a signed-in visitor goes straight on."""
    target = safe_next(request.query_params.get("next"))
    if signed_in(request):
        return RedirectResponse(target, status_code=303)
    return render(request, "signin.html", {"next": target})


async def signin(request: Request) -> Response:
    """Check the posted key against the service's keys; start a session holding its fingerprint."""
    if not await csrf_ok(request):
        return _refused()
    form = await request.form()
    target = safe_next(str(form.get("next", "")))
    found = matching_fingerprint(
        str(form.get("api_key", "")).strip(), request.app.state.fingerprints
    )
    if found is None:
        error = "That key is not one of the service's API keys."
        return render(request, "signin.html", {"next": target, "error": error}, status_code=401)
    start_session(request, found)
    return RedirectResponse(target, status_code=303)


async def signout(request: Request) -> Response:
    """End the session."""
    if not await csrf_ok(request):
        return _refused()
    request.session.clear()
    return RedirectResponse(SIGN_IN, status_code=303)


def no_scores(request: Request, exc: Exception) -> Response:
    """Any page while there are no usable batch scores (none yet, or a damaged snapshot
    store): say what to run, as the error does."""
    title = "No scores yet" if isinstance(exc, SnapshotMissingError) else "Scores unreadable"
    context = {"title": title, "message": str(exc)}
    return render(request, "problem.html", context, status_code=503)


@login_required
def at_risk(request: Request) -> Response:
    """The at-risk list: filters, totals, one page of customers, links to the others."""
    state = web_state(request)
    size = state.settings.web.page_size
    form = parse_form(request.query_params, state.at_risk_request, size)
    runtime = state.runtime()
    answer = None if form.query is None else runtime.at_risk(form.query)
    context = {
        "form": form,
        "answer": answer,
        "pages": pages(answer.total, size) if answer else 1,
        "options": filter_options(runtime.store, tuple(state.settings.serving.tier_cutoffs)),
        "info": runtime.store.info(),
    }
    if not _partial(request):
        return render(request, "at_risk.html", context, status_code=200 if answer else 400)
    response = render(request, "_at_risk_results.html", context, status_code=200)
    # the address bar shows the filters set, not every empty field of the form
    response.headers["HX-Push-Url"] = request.url.path + (
        f"?{form.link(form.page)}" if form.link(form.page) else ""
    )
    return response


@login_required
def at_risk_csv(request: Request) -> Response:
    """Every customer the filters select, as `zerochurn at-risk` writes them."""
    state = web_state(request)
    form = parse_form(request.query_params, state.at_risk_request, state.settings.web.page_size)
    if form.query is None:
        return Response("; ".join(form.errors), status_code=400, media_type="text/plain")
    store = state.runtime().store
    info = store.info()
    table = at_risk_list(store, replace(form.query, limit=max(info.customers, 1), offset=0))
    return Response(
        table.to_csv(index=False),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="at_risk_{info.as_of}.csv"'},
    )


def _history_chart(history: pd.DataFrame) -> Chart:
    labels = [
        f"{as_of} (v{version})"
        for as_of, version in zip(history["as_of"], history["model_version"], strict=True)
    ]
    return line_chart(
        labels,
        {"churn probability": history["churn_probability"].tolist()},
        title="Churn probability at each scoring run",
        fmt=percent,
        zero=True,
    )


def _raw_sections(request: Request, customer_id: str, as_of: str) -> dict[str, object]:
    """The customer's revenue, survey and complaint sections, or why there are none."""
    state = web_state(request)
    try:
        views = state.data.current()
    except DataUnavailableError as exc:
        return {"raw_problem": str(exc)}
    records = views.index.records(customer_id)
    known = pd.Timestamp(as_of)
    revenue = revenue_months(
        records.revenue,
        state.settings.web.revenue_months,
        (known - pd.Timedelta(days=1)).to_period("M"),
    )
    series = {"revenue": revenue["revenue"].tolist()}
    if revenue["margin"].notna().any():
        series["margin"] = revenue["margin"].tolist()
    return {
        "profile": records.profile,
        "revenue_chart": line_chart(
            revenue["month"].tolist(), series, title="Revenue per month", fmt=money, zero=True
        ),
        "surveys": survey_grid(records.surveys, state.settings.web.survey_quarters),
        "complaints": complaint_views(records.complaints, known),
        "data_dir": shown_path(views.data_dir, state.settings.workspace),
    }


@login_required
def customer(request: Request) -> Response:
    """One customer: the score and reasons as /score_customers gives them, the score history,
    and what the raw data (or, for a flat-table champion, the table row) holds."""
    state = web_state(request)
    customer_id = request.path_params["customer_id"]
    runtime = state.runtime()
    answer = runtime.score_customers([customer_id])
    if not answer.scores:
        return render(
            request,
            "problem.html",
            {"title": "Customer not found", "message": answer.errors[0].error},
            status_code=404,
        )
    history = state.history.of(customer_id)
    context: dict[str, object] = {
        "score": answer.scores[0],
        "as_of": answer.as_of,
        "history_chart": _history_chart(history) if len(history) else None,
        "model": runtime.model_info(),
    }
    if context["model"].data_kind == "table":
        row = runtime.store.features([customer_id]).drop(
            columns=["customer_id", "as_of"], errors="ignore"
        )
        context["table_row"] = list(row.iloc[0].items()) if len(row) else []
    else:
        context |= _raw_sections(request, customer_id, answer.as_of)
    return render(request, "customer.html", context)


@login_required
def segments(request: Request) -> Response:
    """Churn index and value at risk by region, segment or plan, as /churn_index gives them."""
    by = request.query_params.get("by", PROFILE_COLUMNS[0])
    if by not in PROFILE_COLUMNS:
        return render(
            request,
            "problem.html",
            {
                "title": "Unknown grouping",
                "message": f"by={by!r}: expected one of {', '.join(PROFILE_COLUMNS)}",
            },
            status_code=400,
        )
    answer = web_state(request).runtime().churn_index(by)
    groups = [segment.group for segment in answer.segments]
    index_chart = bar_chart(
        groups,
        {
            "churn index": [segment.churn_index for segment in answer.segments],
            "value-weighted churn index": [
                segment.value_weighted_churn_index for segment in answer.segments
            ],
        },
        title=f"Churn index by {by} (100 = average risk)",
        fmt=number,
        references=INDEX_REFERENCE,
    )
    value_chart = bar_chart(
        groups,
        {"value at risk": [segment.value_at_risk for segment in answer.segments]},
        title=f"Value at risk by {by}",
        fmt=money,
    )
    context = {
        "answer": answer,
        "by": by,
        "groupings": PROFILE_COLUMNS,
        "figures": (index_chart, value_chart),
    }
    return render(request, "segments.html", context)


def _report_page(request: Request, name: str, context: dict[str, object]) -> Response:
    """A programme report page: the report view `name` of the latest data folder."""
    try:
        views = web_state(request).data.current()
    except DataUnavailableError as exc:
        return render(request, "report.html", {**context, "problem": str(exc)})
    return render(
        request,
        "report.html",
        {
            **context,
            "name": name,
            "report": views.reports.get(name),
            "problem": views.problems.get(name),
            "data_dir": shown_path(views.data_dir, web_state(request).settings.workspace),
        },
    )


@login_required
def satisfaction(request: Request) -> Response:
    """The satisfaction report by region or by segment (customer type)."""
    default = web_state(request).settings.reports.group_by
    by = request.query_params.get("by", default)
    if by not in SATISFACTION_GROUPS:
        by = default
    return _report_page(
        request,
        f"satisfaction-{by}",
        {"page": "satisfaction", "by": by, "groupings": SATISFACTION_GROUPS},
    )


@login_required
def complaints(request: Request) -> Response:
    """The complaint report: departments, on-time resolution, follow-up, backlog."""
    return _report_page(request, "complaints", {"page": "complaints"})


@login_required
def report_chart(request: Request) -> Response:
    """One chart of a programme report, as the report draws it (SVG)."""
    try:
        views = web_state(request).data.current()
    except DataUnavailableError:
        return Response(status_code=404)
    report = views.reports.get(request.path_params["report"])
    chart = None if report is None else report.charts.get(request.path_params["chart"])
    if chart is None:
        return Response(status_code=404)
    return Response(
        chart, media_type="image/svg+xml", headers={"Content-Security-Policy": CHART_CSP}
    )


@login_required
def model(request: Request) -> Response:
    """Model health: the champion served, every version, the champion history, monitoring."""
    state = web_state(request)
    health = state.health.get()
    drifted = []
    if health.monitoring is not None:
        drifted = [(name, column_spec(name).description) for name in health.monitoring.drifted]
    served = state.runtime().model_info()
    metrics = [
        (label, served.metrics[name])
        for name, label in SHOWN_METRICS.items()
        if name in served.metrics
    ]
    context = {
        "served": served,
        "metrics": metrics,
        "health": health,
        "drifted": drifted,
        "registry_seconds": state.settings.web.registry_seconds,
    }
    return render(request, "model.html", context)


@login_required
def monitoring_file(request: Request) -> Response:
    """An Evidently report or a figure of a monitoring run folder."""
    run, name = request.path_params["run"], request.path_params["file"]
    path = web_state(request).settings.workspace / MONITORING_FOLDER / run / name
    if not RUN_NAME.fullmatch(run) or name not in MONITORING_FILES or not path.is_file():
        return Response(status_code=404)
    headers = {"Content-Security-Policy": REPORT_CSP} if path.suffix == ".html" else {}
    return FileResponse(path, headers=headers)
