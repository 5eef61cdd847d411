"""The prevention loop on the dashboard (issue 18): loaded beside the KPIs by htmx (so the
dashboard's own figures do not wait for it), or as a page of its own without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from app.deps import SessionDep
from services.prevention_loop import PreventionLoopOut, prevention_loop_figures
from web.charts import line_chart
from web.routes.dashboard import requested_period
from web.session import CaseReaderPage
from web.templating import render

router = APIRouter(include_in_schema=False)


def calibration_chart(loop: PreventionLoopOut) -> Markup | None:
    if not loop.bands:
        return None
    return line_chart(
        "Predicted and actual denial rate by band of predicted risk",
        [band.label for band in loop.bands],
        {
            "Predicted (mean)": [band.mean_predicted for band in loop.bands],
            "Denied (actual)": [band.denied_share for band in loop.bands],
        },
    )


@router.get("/dashboard/prevention-loop", response_class=HTMLResponse)
def prevention_loop_page(
    request: Request,
    session: SessionDep,
    user: CaseReaderPage,
    since: str | None = None,
    until: str | None = None,
) -> HTMLResponse:
    period, errors = requested_period(since, until)
    loop = prevention_loop_figures(session, period)
    fragment = request.headers.get("HX-Request") == "true"
    return render(
        request,
        "prevention_loop.html" if fragment else "prevention_loop_page.html",
        {"user": user, "loop": loop, "chart": calibration_chart(loop), "errors": errors},
        status_code=422 if errors else 200,
    )
