from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from rectify.models import User
from reports.selectors import user_approves_publications, user_reads_reports, user_runs_reports


def require_reader(user: User) -> None:
    """The office, the supervision group and leaders read the archive and outbox; everyone else is refused."""
    if not user_reads_reports(user):
        raise PermissionDenied(_("只有领导小组办公室、整改督导组和领导可以查看调度与通报。"))


def require_runner(user: User) -> None:
    """Only the office compiles, issues and re-sends; leaders read."""
    if not user_runs_reports(user):
        raise PermissionDenied(_("只有领导小组办公室可以生成或重发调度与通报。"))


def require_publication_editor(user: User) -> None:
    if not (user_approves_publications(user) or user_runs_reports(user)):
        raise PermissionDenied(_("只有宣传报道组和领导小组办公室可以编辑信息公开内容。"))


def require_publication_approver(user: User) -> None:
    if not user_approves_publications(user):
        raise PermissionDenied(_("只有宣传报道组可以审核发布信息公开内容。"))
