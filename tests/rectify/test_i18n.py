"""English is real: the catalog is complete, up to date with the code, and the pages each role
uses speak English in their navigation, headings, labels, buttons and form texts.

Data (task titles, unit names, plan titles) stays Chinese; the official documents (周调度,
月通报, the xlsx ledger) stay Chinese whatever the interface language.
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from rectify.management.commands.compile_translations import translations_compile
from reports.services import publication_approve, publication_draft
from tasks.models import Measure, Plan, Problem, Region, Task, Unit
from tests.helpers import missing_service

PO_PATH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
# The code makemessages reads: the apps and the project templates (tests and bench are not UI).
SOURCE_DIRS = ("rectify", "tasks", "accountability", "reports", "templates")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|%s|%d|\{\{ *\w+ *\}\}")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# --- The catalog --------------------------------------------------------------------------------


def test_every_msgid_has_an_english_translation_with_the_same_placeholders():
    catalog = polib.pofile(str(PO_PATH))
    problems = []
    for entry in catalog:
        if entry.obsolete:
            problems.append(f"obsolete: {entry.msgid!r}")
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for translation in translations:
            if not translation.strip():
                problems.append(f"untranslated: {entry.msgid!r}")
            elif _placeholders(translation) != _placeholders(entry.msgid):
                problems.append(f"placeholders differ: {entry.msgid!r} → {translation!r}")
    assert catalog.metadata.get("Language") == "en"
    assert not catalog.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert len(catalog) > 800, "the catalog lost most of its entries"
    assert not problems, "\n".join(problems)


def test_the_translations_are_english():
    """A msgstr copied from the msgid (or left in Chinese) is not a translation. Exceptions are
    the Chinese a reader must see or type: examples of names, the list separator, the importer's
    Chinese column headers and the language's own name."""
    may_keep_chinese = {"、", "文件类型", "简体中文"}
    catalog = polib.pofile(str(PO_PATH))
    chinese = []
    for entry in catalog:
        for translation in (entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]):
            # Chinese examples are quoted (“晋中市”) or given in brackets after an English word.
            unquoted = re.sub(r"“[^”]*”|\b[\w.]*[\u4e00-\u9fff]+[\w.]*(?= \()", "", translation)
            unquoted = re.sub(r"\(e\.g\. [^)]*\)|e\.g\. [^\s;,]+", "", unquoted)
            if CJK.search(unquoted) and entry.msgid not in may_keep_chinese:
                chinese.append(f"{entry.msgid!r} → {translation!r}")
    assert not chinese, "\n".join(chinese)


def test_makemessages_finds_no_msgid_missing_from_the_catalog(tmp_path, settings):
    if shutil.which("xgettext") is None:
        missing_service("makemessages needs GNU gettext's xgettext (apt-get install gettext)")
    base = Path(settings.BASE_DIR)
    for name in SOURCE_DIRS:
        shutil.copytree(base / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO_PATH, target / "django.po")
    # makemessages walks the current directory and writes to LOCALE_PATHS: both are the copy,
    # so the committed catalog is never touched.
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["en"], verbosity=0)
    finally:
        os.chdir(cwd)
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO_PATH)) if not e.obsolete}
    extracted = polib.pofile(str(target / "django.po"))
    found = {(e.msgctxt, e.msgid) for e in extracted if not e.obsolete}
    missing = sorted(msgid for _ctx, msgid in found - committed)
    assert not missing, "msgids in the code but not in locale/en (run `make messages`):\n" + "\n".join(missing)
    stale = sorted(msgid for _ctx, msgid in committed - found)
    assert not stale, "msgids in locale/en that the code no longer uses:\n" + "\n".join(stale)


def test_compile_translations_writes_a_mo_that_django_reads(tmp_path, settings):
    locale = tmp_path / "locale" / "en" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    shutil.copy(PO_PATH, locale / "django.po")
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    assert translations_compile() == [locale / "django.mo"]
    assert translations_compile() == []  # up to date: nothing rewritten
    mo = polib.mofile(str(locale / "django.mo"))
    assert mo.find("台账").msgstr == "Ledger"


# --- The pages, in English ------------------------------------------------------------------------

CHECKED_TAGS = {"nav", "h1", "h2", "h3", "label", "th", "button", "legend"}
CHECKED_CLASSES = {"helptext", "errorlist", "errors", "error", "flash"}
# Inside a checked element these hold data (a unit chosen in a filter, a typed value).
SKIPPED_TAGS = {"option", "select", "textarea", "script", "style"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _InterfaceText(HTMLParser):
    """Collects the text of the elements that must speak the interface language."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, checked, skipped)
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID_TAGS:
            return
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        checked_above = any(c for _t, c, _s in self.stack)
        skipped_above = any(s for _t, _c, s in self.stack)
        # A language offered in its own words (lang="zh-hans" on the switch) is not interface text.
        skipped = skipped_above or tag in SKIPPED_TAGS or (attrs.get("lang") or "").startswith("zh")
        self.stack.append((tag, checked_above or tag in CHECKED_TAGS or bool(classes & CHECKED_CLASSES), skipped))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][1] and not self.stack[-1][2] and data.strip():
            self.texts.append(data.strip())


def _data_values() -> list[str]:
    """Chinese that is data, not interface: names and titles from the database, longest first."""
    values = set()
    for model, fields in ((Unit, ("name", "full_name")), (Region, ("name",)), (Plan, ("title", "issuing_body")),
                          (Task, ("title", "deadline_text")), (Problem, ("title", "heading")), (Measure, ("heading",))):
        for row in model.objects.values_list(*fields):
            values.update(v for v in row if v)
    from rectify.models import User
    from reports.models import Publication

    values.update(v for v in User.objects.values_list("full_name", flat=True) if v)
    values.update(Publication.objects.values_list("title", flat=True))
    return sorted(values, key=len, reverse=True)


def assert_interface_in_english(response, data_values: list[str], status: int = 200) -> None:
    assert response.status_code == status, response.status_code
    assert response["Content-Language"] == "en"
    parser = _InterfaceText()
    parser.feed(response.content.decode())
    chinese = []
    for text in parser.texts:
        for value in data_values:
            text = text.replace(value, "")
        if CJK.search(text):
            chinese.append(text)
    assert parser.texts, "no interface text found at all"
    assert not chinese, f"{response.wsgi_request.path}: Chinese interface text in English:\n" + "\n".join(chinese)


def _in_english(client):
    """Choose English with the header's language switch, as a user does."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


@pytest.fixture
def english_pages(client, plan):
    def check(user, *urls):
        client.logout()
        if user is not None:
            client.force_login(user)
        _in_english(client)
        values = _data_values()
        for url in urls:
            assert_interface_in_english(client.get(url), values)

    return check


@pytest.mark.django_db
def test_login_and_public_pages_in_english(english_pages, office_user):
    publication, _ = publication_draft()
    publication_approve(publication=publication, user=office_user)
    english_pages(None, reverse("login"), "/public/")


@pytest.mark.django_db
def test_liaison_workspace_task_page_and_report_form_in_english(english_pages, coal_liaison, client):
    task = Task.objects.filter(task_units__unit=coal_liaison.unit).order_by("number").first()
    english_pages(coal_liaison, reverse("tasks:mytasks"), reverse("tasks:detail", args=[task.pk]),
                  reverse("tasks:report", args=[task.pk]), reverse("tasks:extension_new", args=[task.pk]))
    # A form sent back with errors: the error texts are English too.
    response = client.post(reverse("tasks:report", args=[task.pk]), {"percent": "150", "text": ""})
    assert_interface_in_english(response, _data_values(), status=400)
    assert b"errorlist" in response.content


@pytest.mark.django_db
def test_office_pages_in_english(english_pages, office_user):
    task = Task.objects.order_by("number").first()
    english_pages(office_user, reverse("tasks:office_queue"), reverse("tasks:detail", args=[task.pk]),
                  reverse("tasks:ledger"), reverse("reports:archive"), reverse("tasks:supervision_list"),
                  reverse("tasks:supervision_new"))


@pytest.mark.django_db
def test_leader_dashboards_in_english(english_pages, leader):
    english_pages(leader, reverse("tasks:ledger"), reverse("tasks:overview"), reverse("tasks:league_units"),
                  reverse("tasks:league_regions"), reverse("tasks:timeline"))


@pytest.mark.django_db
def test_accountability_register_in_english(english_pages, acc_officer):
    english_pages(acc_officer, reverse("accountability:list"), reverse("accountability:new"))


@pytest.mark.django_db
def test_chinese_stays_the_default(client, coal_liaison):
    client.force_login(coal_liaison)
    response = client.get(reverse("tasks:mytasks"))
    assert response["Content-Language"] == "zh-hans"
    assert "我的任务" in response.content.decode()
    assert "My tasks" not in response.content.decode()


@pytest.mark.django_db
def test_accept_language_english_is_honoured(client, coal_liaison):
    client.force_login(coal_liaison)
    response = client.get(reverse("tasks:mytasks"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "en"
    assert "My tasks" in response.content.decode()
