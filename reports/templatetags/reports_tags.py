import datetime as dt

from django import template

from reports.selectors import user_approves_publications, user_reads_reports, user_runs_reports

register = template.Library()


@register.inclusion_tag("reports/_nav.html", takes_context=True)
def reports_nav(context: template.Context) -> dict[str, bool]:
    """Nav links of the reports app, shown to the roles that may use them."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"reads_reports": False, "edits_publications": False}
    return {
        "reads_reports": user_reads_reports(user),
        "edits_publications": user_approves_publications(user) or user_runs_reports(user),
    }


@register.filter
def isodate(value: str | None) -> dt.date | None:
    """A date kept in a snapshot as "2026-12-10", back as a date for the `date` filter."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
