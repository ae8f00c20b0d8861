"""The register's links in the top bar, shown only to the roles that may use them."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

from accountability.access import (
    user_may_handle_cases,
    user_may_open_cases,
    user_may_review_publication,
    user_may_see_figures,
)

register = template.Library()


@register.simple_tag
def accountability_nav_links(user) -> str:
    links = []
    if user_may_open_cases(user):
        links.append((reverse("accountability:list"), _("责任追究")))
    if user_may_see_figures(user):
        links.append((reverse("accountability:figures"), _("问责统计")))
    if user_may_handle_cases(user):
        links.append((reverse("accountability:log"), _("访问记录")))
    if user_may_review_publication(user):
        links.append((reverse("accountability:review_list"), _("问责结果公开审核")))
    return format_html_join("", '<a href="{}">{}</a>', links)  # empty when no links
